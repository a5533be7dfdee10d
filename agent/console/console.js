// wsgate console: the Publisher and Developer Portal steps of the walkthrough in a browser, on the
// agent's HTTP/JSON admin API (/api/v1, the same RPCs as wsgatectl). Vanilla JS, no build step:
// every page is built with h() (textContent only, never innerHTML with data).
"use strict";

const state = { credential: sessionStorage.getItem("wsgate.credential") || "", lastToken: sessionStorage.getItem("wsgate.token") || "" };
const main = () => document.getElementById("main");

// ---- DOM helpers -------------------------------------------------------------------------
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}
function field(label, name, attrs = {}) {
  const id = "f-" + name.replace(/[^a-z0-9]/gi, "-") + "-" + Math.random().toString(36).slice(2, 7);
  const input = attrs.options
    ? h("select", { id, name, "data-field": attrs.field || name }, attrs.options.map((o) => h("option", { value: o.value ?? o, selected: o.selected }, o.label ?? o)))
    : h("input", { id, name, "data-field": attrs.field || name, type: attrs.type || "text", value: attrs.value ?? "", placeholder: attrs.placeholder, required: attrs.required, "aria-describedby": id + "-err" });
  return h("label", { for: id }, label, input, h("span", { class: "field-error", id: id + "-err" }));
}
function toast(text, bad) {
  const t = document.getElementById("toast");
  t.textContent = text;
  t.className = bad ? "bad" : "";
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (t.hidden = true), 4000);
}
function render(...nodes) {
  main().replaceChildren(...nodes.flat());
  main().focus({ preventScroll: true });
}
const when = (ms) => (ms ? new Date(Number(ms)).toLocaleString() : "");

// ---- API ---------------------------------------------------------------------------------
class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error && body.error.message) || "HTTP " + status);
    this.status = status;
    this.field = body && body.error && body.error.field;
  }
}
async function api(method, path, body) {
  const opts = { method, headers: { Authorization: "Bearer " + state.credential } };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const res = await fetch("/api/v1" + path, opts);
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : {}; } catch (e) { json = null; }
  if (res.status === 401) { signOut("Your credential was refused: " + ((json && json.error && json.error.message) || "")); throw new ApiError(401, json); }
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}
const enc = encodeURIComponent;

// Shows an API error next to the input it names ("spec.production_endpoint.url"), else under the form.
function showError(form, err) {
  form.querySelectorAll("[aria-invalid]").forEach((i) => i.removeAttribute("aria-invalid"));
  form.querySelectorAll(".field-error").forEach((e) => (e.textContent = ""));
  let box = form.querySelector(".form-error");
  if (!box) form.append((box = h("p", { class: "form-error", role: "alert" })));
  box.textContent = "";
  const snake = (s) => s.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
  const want = err.field ? snake(err.field).replace(/^spec\./, "").replace(/\[\d+\]/g, "") : "";
  const input = want && [...form.querySelectorAll("[data-field]")].find((i) => {
    const f = snake(i.dataset.field);
    return f === want || want.endsWith("." + f) || f.endsWith("." + want);
  });
  const slot = input && document.getElementById(input.id + "-err");
  if (slot) {
    input.setAttribute("aria-invalid", "true");
    slot.textContent = err.message;
    input.focus();
  } else {
    box.textContent = err.message;
  }
}
// Wraps a submit handler: prevents the page load, shows errors where they belong.
function onSubmit(fn) {
  return async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    try { await fn(new FormData(form), form); } catch (err) { if (err instanceof ApiError) showError(form, err); else throw err; }
    finally { if (button) button.disabled = false; }
  };
}
async function act(fn, done) {
  try { await fn(); if (done) toast(done); route(); } catch (err) { toast(err.message, true); }
}

// ---- Shared knowledge: lifecycle, URLs ---------------------------------------------------
const LIFECYCLE = {
  CREATED: ["Publish", "Deploy as a Prototype"],
  PRE_RELEASED: ["Publish", "Demote to Created", "Deploy as a Prototype"],
  PUBLISHED: ["Block", "Deprecate", "Demote to Created", "Deploy as a Prototype"],
  BLOCKED: ["Publish", "Deprecate"],
  DEPRECATED: ["Retire"],
  RETIRED: [],
};
function basePath(spec) {
  return spec.context.includes("{version}") ? spec.context.replace("{version}", spec.version) : spec.context.replace(/\/$/, "") + "/" + spec.version;
}
// "/rooms/{roomID}" with example values: roomID -> room1 (the walkthrough's).
function exampleTopic(name, values = {}) {
  return name.replace(/\{([^}]+)\}/g, (_, p) => enc(values[p] ?? p.replace(/I[Dd]$/, "") + "1"));
}
// Where clients reach an API: the vhosts of its deployments, with their environments' ports.
async function gateways(api_) {
  const [deps, envs] = await Promise.all([api("GET", `/apis/${enc(api_.id)}/deployments`), api("GET", "/environments")]);
  const out = [];
  for (const d of deps.deployments) {
    const env = envs.environments.find((e) => e.name === d.environment);
    const vh = env && env.vhosts.find((v) => v.name === d.vhost);
    if (!vh) continue;
    const host = vh.name.includes(":") && !vh.name.startsWith("[") ? `[${vh.name}]` : vh.name;
    out.push({ env: d.environment, ws: `ws://${host}:${vh.wsPort || 9099}`, wss: `wss://${host}:${vh.wssPort || 8099}` });
  }
  return out;
}

// ---- Sign-in -----------------------------------------------------------------------------
function signOut(why) {
  state.credential = "";
  sessionStorage.removeItem("wsgate.credential");
  if (why) toast(why, true);
  route();
}
function signInPage() {
  const form = h("form", { "aria-label": "Sign in", onsubmit: onSubmit(async (data) => {
    state.credential = String(data.get("credential")).trim();
    try { await api("GET", "/status"); } catch (err) { state.credential = ""; throw err; }
    sessionStorage.setItem("wsgate.credential", state.credential);
    // A changed hash routes through hashchange; routing here as well would render the page twice.
    if (!location.hash || location.hash === "#/") location.hash = "#/publisher";
    else route();
  }) },
    h("p", { class: "muted" }, "Paste a wsgate credential: the admin credential is in the agent's data directory (", h("code", {}, "admin.token"), ")."),
    h("div", { class: "row" }, field("Credential", "credential", { type: "password", required: true })),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Sign in")));
  render(h("h1", {}, "Sign in"), h("section", { class: "card" }, form));
}

// ---- Publisher ---------------------------------------------------------------------------
// The security schemes an API may accept (WSO2's securityScheme): [value, label, checked by default].
const SECURITY = [["oauth2", "OAuth2 access tokens", true], ["api_key", "API keys (apikey header or ?apikey=)", false]];
const securityText = (spec) => (spec.security && spec.security.length ? spec.security : ["oauth2"]).join(", ");

async function publisherPage() {
  const { apis } = await api("GET", "/apis");
  const create = h("form", { "aria-label": "Create API", onsubmit: onSubmit(async (d) => {
    const spec = { name: d.get("name"), context: d.get("context"), version: d.get("version"), productionEndpoint: { url: d.get("production") },
      security: d.getAll("security") };
    if (d.get("sandbox")) spec.sandboxEndpoint = { url: d.get("sandbox") };
    const made = await api("POST", "/apis", { spec });
    location.hash = "#/publisher/api/" + enc(made.id);
  }) },
    h("div", { class: "row" },
      field("Name", "name", { placeholder: "Chats", required: true }),
      field("Context", "context", { placeholder: "/chats", required: true }),
      field("Version", "version", { placeholder: "1.0.0", required: true })),
    h("div", { class: "row" },
      field("Production endpoint", "production", { field: "production_endpoint.url", placeholder: "ws://localhost:8080", required: true }),
      field("Sandbox endpoint (optional)", "sandbox", { field: "sandbox_endpoint.url", placeholder: "ws://localhost:8080" })),
    h("div", { class: "row" }, SECURITY.map(([value, label, checked]) => h("label", { class: "check" },
      h("span", {}, h("input", { type: "checkbox", name: "security", value, "data-field": "security", checked }), " ", label)))),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Create")));
  render(h("h1", {}, "WebSocket APIs"),
    apis.length ? h("table", {}, h("thead", {}, h("tr", {}, ["Name", "Version", "Context", "State", "Deployed"].map((t) => h("th", {}, t)))),
      h("tbody", {}, apis.map((a) => h("tr", {},
        h("td", {}, h("a", { href: "#/publisher/api/" + enc(a.id) }, a.spec.name)), h("td", {}, a.spec.version),
        h("td", { class: "mono" }, a.spec.context), h("td", {}, h("span", { class: "badge" }, a.state)),
        h("td", {}, a.deployedRevisions.length ? "revision " + a.deployedRevisions.join(", ") : "—")))))
      : h("p", { class: "muted" }, "No APIs yet: create the first one below."),
    h("h2", {}, "Create API"), h("section", { class: "card" }, create));
}

// This API's counters summed over every engine that answered GetTraffic (cumulative since each
// engine started; `wsgatectl top` shows the same numbers as rates).
function trafficCard(traffic, id) {
  if (!traffic) return null;
  const n = (v) => Number(v || 0);
  const sum = { live: 0, total: 0, inFrames: 0, inBytes: 0, outFrames: 0, outBytes: 0, throttled: 0, denied: 0, refused: 0, errors: 0 };
  const silent = [];
  for (const e of traffic.engines || []) {
    if (e.error) { silent.push(e.engine); continue; }
    for (const s of (e.stats && e.stats.apis) || []) {
      if (s.apiId !== id) continue;
      const up = s.clientToBackend || {}, down = s.backendToClient || {};
      sum.live += n(s.activeConnections); sum.total += n(s.totalConnections);
      sum.inFrames += n(up.frames); sum.inBytes += n(up.bytes); sum.outFrames += n(down.frames); sum.outBytes += n(down.bytes);
      sum.throttled += n(up.throttledFrames) + n(down.throttledFrames); sum.denied += n(up.deniedFrames) + n(down.deniedFrames);
      sum.refused += n(s.refusedUpgrades); sum.errors += n(s.errorCloses);
    }
  }
  const rows = [["Connections now", sum.live], ["Connections since start", sum.total],
    ["Frames client → backend", `${sum.inFrames} (${sum.inBytes} bytes)`], ["Frames backend → client", `${sum.outFrames} (${sum.outBytes} bytes)`],
    ["Throttled frames", sum.throttled], ["Frames refused by topic direction", sum.denied],
    ["Refused upgrades", sum.refused], ["Closed with 1011", sum.errors]];
  return [h("h2", {}, "Traffic"), h("section", { class: "card" },
    h("table", { "aria-label": "Traffic" }, h("tbody", {}, rows.map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", { "data-stat": k }, String(v)))))),
    h("p", { class: "muted" }, "Summed over " + ((traffic.engines || []).length - silent.length) + " engine(s) since each started" +
      (silent.length ? `; not answering: ${silent.join(", ")}` : "") + ". ",
      h("button", { type: "button", class: "secondary", onclick: () => route() }, "Refresh")))];
}

async function publisherApiPage(id) {
  const [a, revs, policies, envs, conns, traffic] = await Promise.all([
    api("GET", `/apis/${enc(id)}`), api("GET", `/apis/${enc(id)}/revisions`), api("GET", "/throttle-policies?level=SUBSCRIPTION"),
    api("GET", "/environments"), api("GET", `/connections?filter.api=${enc(id)}&page_size=1000`).catch(() => null),
    api("GET", "/traffic").catch(() => null)]);
  const s = a.spec;
  const topics = h("table", {}, h("thead", {}, h("tr", {}, ["Topic", "URL mapping", "Direction", ""].map((t) => h("th", {}, t)))),
    h("tbody", {}, s.topics.map((t) => h("tr", {},
      h("td", { class: "mono" }, t.name), h("td", { class: "mono" }, t.urlMapping || "—"),
      h("td", {}, t.publish && t.subscribe ? "both" : t.publish ? "publish" : "subscribe"),
      h("td", {}, h("button", { class: "danger", type: "button", "aria-label": "Delete topic " + t.name,
        onclick: () => act(() => api("DELETE", `/apis/${enc(id)}/topics/${enc(t.name)}`), "Topic deleted") }, "Delete"))))));
  const addTopic = h("form", { "aria-label": "Add topic", onsubmit: onSubmit(async (d) => {
    const dir = d.get("direction");
    await api("POST", `/apis/${enc(id)}/topics`, { name: d.get("name"), urlMapping: d.get("mapping"), publish: dir !== "subscribe", subscribe: dir !== "publish" });
    toast("Topic added"); route();
  }) }, h("div", { class: "row" },
    field("Topic", "name", { placeholder: "/rooms/{roomID}", required: true, field: "topic.name" }),
    field("URL mapping", "mapping", { placeholder: "/rooms?room={uri.var.roomID}", field: "topic.url_mapping" }),
    field("Direction", "direction", { options: ["both", "publish", "subscribe"], field: "topic.direction" })),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Add topic")));
  const plans = h("form", { "aria-label": "Business plans", onsubmit: onSubmit(async (d) => {
    await api("PUT", `/apis/${enc(id)}/plans`, { plans: d.getAll("plan") });
    toast("Business plans saved"); route();
  }) }, h("div", { class: "row" }, policies.policies.map((p) => h("label", { class: "check" },
    h("span", {}, h("input", { type: "checkbox", name: "plan", value: p.name, "data-field": "plans", checked: s.plans.includes(p.name) }), " ", p.name),
    h("span", { class: "muted" }, p.description || "")))), h("div", { class: "actions" }, h("button", { type: "submit" }, "Save plans")));
  const lifecycle = h("div", { class: "actions" }, (LIFECYCLE[a.state] || []).map((action) =>
    h("button", { type: "button", class: "secondary", onclick: () => act(() => api("POST", `/apis/${enc(id)}/lifecycle`, { action }), action + ": done") }, action)));
  const envOptions = envs.environments.flatMap((e) => e.vhosts.map((v) => ({ value: e.name + "\n" + v.name, label: `${e.name} — ${v.name}` })));
  const revisionRows = revs.revisions.map((r) => {
    const deploy = h("form", { class: "inline", "aria-label": "Deploy revision " + r.number, onsubmit: onSubmit(async (d) => {
      const [environment, vhost] = String(d.get("target")).split("\n");
      await api("POST", `/apis/${enc(id)}/revisions/${r.number}/deployments`, { environment, vhost });
      toast(`Revision ${r.number} deployed to ${environment}`); route();
    }) }, field("Gateway environment", "target", { options: envOptions, field: "environment" }), h("button", { type: "submit" }, "Deploy"));
    return h("tr", {}, h("td", {}, "Revision " + r.number), h("td", {}, r.description || ""),
      h("td", {}, r.deployments.length ? r.deployments.map((d) => `${d.environment} (${d.vhost})`).join(", ") : "—"),
      h("td", {}, deploy, h("div", { class: "actions" },
        h("button", { type: "button", class: "secondary", onclick: () => act(() => api("POST", `/apis/${enc(id)}/revisions/${r.number}/restore`), `Revision ${r.number} restored`) }, "Restore"),
        r.deployments.length ? h("button", { type: "button", class: "secondary", onclick: () => act(() => api("DELETE", `/apis/${enc(id)}/revisions/${r.number}/deployments`), "Undeployed") }, "Undeploy") : null,
        h("button", { type: "button", class: "danger", onclick: () => act(() => api("DELETE", `/apis/${enc(id)}/revisions/${r.number}`), "Revision deleted") }, "Delete"))));
  });
  const newRevision = h("form", { "aria-label": "Create revision", onsubmit: onSubmit(async (d) => {
    await api("POST", `/apis/${enc(id)}/revisions`, { description: d.get("description") });
    toast("Revision created"); route();
  }) }, h("div", { class: "row" }, field("Description", "description", {})), h("div", { class: "actions" }, h("button", { type: "submit" }, "Deploy New Revision")));
  render(h("h1", {}, `${s.name} ${s.version}`),
    h("section", { class: "card" }, h("p", {}, "Context ", h("code", {}, s.context), " · state ", h("span", { class: "badge", id: "api-state" }, a.state)),
      h("p", {}, "Security ", h("code", { id: "api-security" }, securityText(s))),
      h("p", {}, "Production endpoint ", h("code", {}, (s.productionEndpoint && s.productionEndpoint.url) || "—"),
        s.sandboxEndpoint && s.sandboxEndpoint.url ? [" · sandbox ", h("code", {}, s.sandboxEndpoint.url)] : null),
      conns ? h("p", { class: "muted" }, `Live connections: ${conns.connections.length}` +
        (conns.unreachableEngines.length ? ` (engines not answering: ${conns.unreachableEngines.join(", ")})` : "")) : null),
    trafficCard(traffic, id),
    h("h2", {}, "Topics"), h("section", { class: "card" }, topics, addTopic),
    h("h2", {}, "Business plans"), h("section", { class: "card" }, plans),
    h("h2", {}, "Lifecycle"), h("section", { class: "card" }, h("p", {}, "Current state: ", a.state), lifecycle),
    h("h2", {}, "Revisions and deployments"), h("section", { class: "card" },
      revs.revisions.length ? h("table", {}, h("tbody", {}, revisionRows)) : h("p", { class: "muted" }, "No revisions yet (at most 5 are kept)."), newRevision),
    h("p", {}, h("a", { href: "#/portal/api/" + enc(id) }, "View in the Developer Portal")));
}

// ---- Developer Portal --------------------------------------------------------------------
async function portalPage() {
  const { apis } = await api("GET", "/apis");
  const visible = apis.filter((a) => a.state === "PUBLISHED" || a.state === "PRE_RELEASED");
  render(h("h1", {}, "Developer Portal"),
    visible.length ? visible.map((a) => h("section", { class: "card" },
      h("h2", {}, h("a", { href: "#/portal/api/" + enc(a.id) }, `${a.spec.name} ${a.spec.version}`)),
      h("p", { class: "muted" }, a.spec.description || "WebSocket API", " · ", h("code", {}, basePath(a.spec))),
      h("p", {}, "Topics: ", a.spec.topics.map((t) => t.name).join(", ") || "—", " · Plans: ", a.spec.plans.join(", ") || "—")))
      : h("p", { class: "muted" }, "No published APIs yet."));
}

async function portalApiPage(id) {
  const a = await api("GET", `/apis/${enc(id)}`);
  const gw = await gateways(a).catch(() => []);
  render(h("h1", {}, `${a.spec.name} ${a.spec.version}`),
    h("section", { class: "card" }, h("p", {}, "Base path ", h("code", {}, basePath(a.spec)), " · ", h("span", { class: "badge" }, a.state)),
      gw.length ? h("p", {}, "Gateway URLs: ", gw.map((g) => h("code", {}, `${g.ws}${basePath(a.spec)}  ${g.wss}${basePath(a.spec)}`))) : h("p", { class: "muted" }, "Not deployed yet."),
      h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Topic"), h("th", {}, "Direction"))),
        h("tbody", {}, a.spec.topics.map((t) => h("tr", {}, h("td", { class: "mono" }, t.name), h("td", {}, t.publish && t.subscribe ? "publish and subscribe" : t.publish ? "publish" : "subscribe"))))),
      h("p", {}, "Business plans: ", a.spec.plans.join(", ") || "—"),
      h("div", { class: "actions" }, h("button", { type: "button", id: "subscribe", onclick: () => { wizardPage.state = null; location.hash = `#/portal/api/${enc(id)}/subscribe`; } }, "Subscribe & generate keys"))),
    h("h2", {}, "Try it"), tryIt(a, gw));
}

// The subscription & key generation wizard: application -> subscription -> keys -> token.
async function wizardPage(id) {
  const a = await api("GET", `/apis/${enc(id)}`);
  const w = (wizardPage.state && wizardPage.state.api === id) ? wizardPage.state : (wizardPage.state = { api: id, step: 0 });
  const steps = ["Application", "Subscription", "Keys", "Access token"];
  const head = [h("h1", {}, `Subscribe to ${a.spec.name} ${a.spec.version}`), h("ol", { class: "steps", "aria-label": "Wizard steps" },
    steps.map((s, i) => h("li", { class: i === w.step ? "current" : "", "aria-current": i === w.step ? "step" : null }, `${i + 1}. ${s}`)))];
  const next = () => { w.step++; route(); };
  if (w.step === 0) {
    const { applications } = await api("GET", "/applications");
    const form = h("form", { "aria-label": "Application", onsubmit: onSubmit(async (d) => {
      if (d.get("existing")) { w.app = applications.find((x) => x.id === d.get("existing")); return next(); }
      w.app = await api("POST", "/applications", { name: d.get("name"), description: d.get("description") });
      next();
    }) },
      applications.length ? h("div", { class: "row" }, field("Use an application", "existing", { options: [{ value: "", label: "— create a new one —" }, ...applications.map((x) => ({ value: x.id, label: x.name }))] })) : null,
      h("div", { class: "row" }, field("New application name", "name", { placeholder: "ChatApp" }), field("Description", "description", {})),
      h("div", { class: "actions" }, h("button", { type: "submit" }, "Next")));
    return render(head, h("section", { class: "card" }, form));
  }
  if (w.step === 1) {
    const form = h("form", { "aria-label": "Subscription", onsubmit: onSubmit(async (d) => {
      try { await api("POST", "/subscriptions", { application: w.app.id, api: id, plan: d.get("plan") }); }
      catch (err) { if (err.status !== 409) throw err; }  // already subscribed: keep going
      next();
    }) }, h("p", {}, "Application ", h("strong", {}, w.app.name)),
      h("div", { class: "row" }, field("Business plan", "plan", { options: a.spec.plans })),
      h("div", { class: "actions" }, h("button", { type: "submit" }, "Subscribe")));
    return render(head, h("section", { class: "card" }, form));
  }
  if (w.step === 2) {
    const form = h("form", { "aria-label": "Keys", onsubmit: onSubmit(async (d) => {
      w.keyType = d.get("keyType");
      try { w.keys = await api("POST", `/applications/${enc(w.app.id)}/keys`, { keyType: w.keyType, regenerate: d.get("regenerate") === "on" }); }
      catch (err) {
        if (err.status !== 409) throw err;
        const { keys } = await api("GET", `/applications/${enc(w.app.id)}/keys`);
        w.keys = keys.find((k) => k.keyType === w.keyType);
      }
      next();
    }) }, h("div", { class: "row" }, field("Key type", "keyType", { options: ["PRODUCTION", "SANDBOX"], field: "key_type" }),
      h("label", {}, h("span", {}, h("input", { type: "checkbox", name: "regenerate" }), " Regenerate if keys exist (their tokens stop working)"))),
      h("div", { class: "actions" }, h("button", { type: "submit" }, "Generate keys")));
    return render(head, h("section", { class: "card" }, form));
  }
  const gw = await gateways(a).catch(() => []);
  const tokenForm = h("form", { "aria-label": "Access token", onsubmit: onSubmit(async (d) => {
    const scopes = String(d.get("scopes")).split(/\s+/).filter(Boolean);
    const t = await api("POST", `/applications/${enc(w.app.id)}/tokens`, { keyType: w.keyType, ttlS: Number(d.get("ttl")), scopes });
    w.token = t.accessToken;
    state.lastToken = t.accessToken;
    sessionStorage.setItem("wsgate.token", t.accessToken);
    route();
  }) },
    w.keys ? h("div", { class: "secret" }, h("p", {}, "Consumer key ", h("code", { id: "consumer-key" }, w.keys.consumerKey)),
      w.keys.consumerSecret ? h("p", {}, "Consumer secret ", h("code", { id: "consumer-secret" }, w.keys.consumerSecret), h("br"), h("small", {}, "Shown once: copy it now.")) : null) : null,
    h("div", { class: "row" }, field("Validity (seconds)", "ttl", { type: "number", value: "3600", field: "ttl_s" }), field("Scopes (space-separated)", "scopes", {})),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Generate access token")));
  const out = [];
  if (w.token) {
    const base = basePath(a.spec);
    const g = gw[0] || { ws: "ws://localhost:9099", wss: "wss://localhost:8099" };
    const lines = a.spec.topics.flatMap((t) => {
      const p = base + exampleTopic(t.name);
      return [`wscat -c ${g.ws}${p} -H "Authorization: Bearer ${w.token}"`, `wscat -n -c ${g.wss}${p} -H "Authorization: Bearer ${w.token}"`];
    });
    if (a.spec.topics.length) lines.push(`wscat -c "${g.ws}${base}${exampleTopic(a.spec.topics[0].name)}?access_token=${w.token}"`);
    out.push(h("h2", {}, "Your access token"), h("pre", { id: "access-token" }, w.token),
      h("div", { class: "actions" }, h("button", { type: "button", onclick: () => navigator.clipboard.writeText(w.token).then(() => toast("Token copied")) }, "Copy token"),
        h("a", { href: "#/portal/api/" + enc(id) }, "Try it")),
      h("h2", {}, "Connect with wscat"), h("pre", { id: "wscat-commands" }, lines.join("\n")));
  }
  render(head, h("section", { class: "card" }, tokenForm), out);
}

// A WebSocket console through the engine: the token goes in ?access_token=, an API key in ?apikey=
// (browsers cannot set headers).
function tryIt(a, gw) {
  const base = basePath(a.spec);
  const log = h("div", { class: "log", role: "log", "aria-label": "Messages", id: "try-log" });
  const line = (cls, text) => { log.append(h("div", { class: cls }, text)); log.scrollTop = log.scrollHeight; };
  const params = h("div", { class: "row" });
  const topicSelect = field("Topic", "topic", { options: a.spec.topics.map((t) => t.name) });
  const showParams = () => {
    const t = topicSelect.querySelector("select").value || "";
    params.replaceChildren(...[...t.matchAll(/\{([^}]+)\}/g)].map((m) => field(m[1], "param-" + m[1], { value: exampleTopic("{" + m[1] + "}") })));
  };
  topicSelect.querySelector("select").addEventListener("change", showParams);
  showParams();
  let ws = null;
  const status = h("p", { class: "muted", id: "try-status" }, "Not connected.");
  const send = h("form", { "aria-label": "Send", onsubmit: (ev) => {
    ev.preventDefault();
    const input = send.querySelector("input");
    if (!ws || ws.readyState !== WebSocket.OPEN) return toast("Connect first", true);
    ws.send(input.value); line("out", input.value); input.value = "";
  } }, h("div", { class: "row" }, field("Message", "message", {})), h("div", { class: "actions" }, h("button", { type: "submit" }, "Send")));
  const connect = h("form", { "aria-label": "Connect", onsubmit: (ev) => {
    ev.preventDefault();
    const d = new FormData(connect);
    const values = {};
    for (const [k, v] of d.entries()) if (k.startsWith("param-")) values[k.slice(6)] = v;
    const param = d.get("credentialType") === "apikey" ? "apikey" : "access_token";
    const url = String(d.get("gateway")).replace(/\/$/, "") + base + exampleTopic(String(d.get("topic")), values) + `?${param}=` + enc(String(d.get("token")).trim());
    if (ws) ws.close(1000);
    line("sys", "connecting to " + url.replace(/(access_token|apikey)=[^&]+/, "$1=…"));
    ws = new WebSocket(url);
    ws.onopen = () => { status.textContent = "Connected."; line("sys", "connected"); };
    ws.onmessage = (m) => line("in", typeof m.data === "string" ? m.data : "[binary message]");
    ws.onclose = (c) => { status.textContent = `Closed: ${c.code}${c.reason ? " " + c.reason : ""}`; line("sys", `closed ${c.code} ${c.reason}`); ws = null; };
    ws.onerror = () => line("sys", "connection error (a refused upgrade shows as close 1006: check the token, the topic and the gateway URL)");
  } }, h("div", { class: "row" },
    field("Gateway", "gateway", { value: (gw[0] && gw[0].ws) || "ws://" + location.hostname + ":9099" }), topicSelect),
    params, h("div", { class: "row" }, field("Credential", "credentialType", { options: [{ value: "token", label: "Access token" }, { value: "apikey", label: "API key" }] }),
      field("Access token or API key", "token", { value: state.lastToken, type: "password" })),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Connect"),
      h("button", { type: "button", class: "secondary", onclick: () => ws && ws.close(1000, "bye") }, "Disconnect")));
  return h("section", { class: "card", id: "try-it" }, connect, status, log, send);
}

// ---- Applications ------------------------------------------------------------------------
async function applicationsPage() {
  const { applications } = await api("GET", "/applications");
  const create = h("form", { "aria-label": "Create application", onsubmit: onSubmit(async (d) => {
    const app = await api("POST", "/applications", { name: d.get("name"), description: d.get("description") });
    location.hash = "#/applications/" + enc(app.id);
  }) }, h("div", { class: "row" }, field("Name", "name", { required: true }), field("Description", "description", {})),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Create application")));
  render(h("h1", {}, "Applications"),
    applications.length ? h("table", {}, h("thead", {}, h("tr", {}, ["Name", "Owner", "Created", "State"].map((t) => h("th", {}, t)))),
      h("tbody", {}, applications.map((x) => h("tr", {}, h("td", {}, h("a", { href: "#/applications/" + enc(x.id) }, x.name)),
        h("td", {}, x.owner), h("td", {}, when(x.createdUnixMs)), h("td", {}, x.blocked ? "blocked" : "active")))))
      : h("p", { class: "muted" }, "No applications yet."),
    h("h2", {}, "Create application"), h("section", { class: "card" }, create));
}

// An application's API keys (issue 14 item 4): the list (never the key text), a form that creates
// one and shows it once, and Revoke (live sockets using the key close with 4001).
function apiKeysCard(id, apiKeys, created) {
  const list = (xs) => String(xs || "").split(/[\s,]+/).filter(Boolean);
  const create = h("form", { "aria-label": "Create API key", onsubmit: onSubmit(async (d) => {
    const made = await api("POST", `/applications/${enc(id)}/api-keys`, { keyType: d.get("keyType"),
      validityS: Math.round(Number(d.get("validityDays")) * 86400), apis: list(d.get("apis")), ipRanges: list(d.get("ipRanges")), origins: list(d.get("origins")) });
    apiKeysCard.created = made;
    toast("API key created"); route();
  }) }, h("div", { class: "row" }, field("Key type", "keyType", { options: ["PRODUCTION", "SANDBOX"], field: "key_type" }),
    field("Valid for (days; 0: never expires)", "validityDays", { type: "number", value: "30", field: "validity_s" })),
    h("div", { class: "row" }, field("Only these APIs (Name:Version, optional)", "apis", { placeholder: "Chats:1.0.0" }),
      field("Only these client addresses (CIDR, optional)", "ipRanges", { placeholder: "10.0.0.0/8 2001:db8::/32", field: "ip_ranges" }),
      field("Only these origins (optional)", "origins", { placeholder: "https://*.example.com" })),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Create API key")));
  const shown = created ? h("div", { class: "secret" }, h("p", {}, "API key ", h("code", { id: "api-key" }, created.apiKey)),
    h("small", {}, "Shown once: copy it now. Send it as the apikey header or ?apikey=.")) : null;
  const rows = apiKeys.map((k) => h("tr", { "data-key": k.id }, h("td", { class: "mono" }, k.prefix + "…"), h("td", {}, k.keyType),
    h("td", {}, (k.apis || []).join(", ") || "any subscribed API"),
    h("td", {}, [...(k.ipRanges || []), ...(k.origins || [])].join(", ") || "—"),
    h("td", {}, Number(k.expiresUnixS) ? "expires " + when(Number(k.expiresUnixS) * 1000) : "never expires"),
    h("td", {}, h("button", { type: "button", class: "danger", "aria-label": "Revoke API key " + k.prefix,
      onclick: () => act(() => api("DELETE", `/api-keys/${enc(k.id)}`), "API key revoked: live connections using it are closed") }, "Revoke"))));
  return [h("h2", {}, "API keys"), h("section", { class: "card", id: "api-keys" }, shown,
    rows.length ? h("table", {}, h("thead", {}, h("tr", {}, ["Key", "Type", "APIs", "Restricted to", "Expiry", ""].map((t) => h("th", {}, t)))), h("tbody", {}, rows))
      : h("p", { class: "muted" }, "No API keys: APIs that accept API keys take one instead of a token."), create)];
}

async function applicationPage(id) {
  const [app, subs, keys, apiKeys] = await Promise.all([api("GET", `/applications/${enc(id)}`),
    api("GET", `/subscriptions?application=${enc(id)}`), api("GET", `/applications/${enc(id)}/keys`),
    api("GET", `/applications/${enc(id)}/api-keys`)]);
  const created = apiKeysCard.created && apiKeysCard.created.applicationId === id ? apiKeysCard.created : null;
  apiKeysCard.created = null;  // shown once
  const revoke = h("form", { "aria-label": "Revoke token", onsubmit: onSubmit(async (d) => {
    await api("POST", "/tokens/revoke", { token: d.get("token") });
    toast("Token revoked: live connections using it are closed"); route();
  }) }, h("div", { class: "row" }, field("Access token", "token", { required: true })), h("div", { class: "actions" }, h("button", { type: "submit", class: "danger" }, "Revoke")));
  render(h("h1", {}, app.name),
    h("section", { class: "card" }, h("p", {}, "Owner ", app.owner, " · created ", when(app.createdUnixMs)), app.description ? h("p", {}, app.description) : null),
    h("h2", {}, "Subscriptions"), h("section", { class: "card" }, subs.subscriptions.length ? h("table", {}, h("tbody", {}, subs.subscriptions.map((s) =>
      h("tr", {}, h("td", {}, s.api), h("td", {}, s.plan), h("td", {}, s.state),
        h("td", {}, h("button", { type: "button", class: "danger", onclick: () => act(() => api("DELETE", `/subscriptions/${enc(s.id)}`), "Unsubscribed") }, "Unsubscribe"))))))
      : h("p", { class: "muted" }, "No subscriptions: subscribe from an API's page in the Developer Portal.")),
    h("h2", {}, "Keys"), h("section", { class: "card" }, keys.keys.length ? h("table", {}, h("tbody", {}, keys.keys.map((k) =>
      h("tr", {}, h("td", {}, k.keyType), h("td", { class: "mono" }, k.consumerKey), h("td", {}, when(k.createdUnixMs)),
        h("td", {}, h("button", { type: "button", class: "danger", onclick: () => act(() => api("DELETE", `/applications/${enc(id)}/keys/${k.keyType}`), "Keys deleted") }, "Delete"))))))
      : h("p", { class: "muted" }, "No keys yet.")),
    apiKeysCard(id, apiKeys.keys || [], created),
    h("h2", {}, "Revoke a token"), h("section", { class: "card" }, revoke));
}

// ---- Router ------------------------------------------------------------------------------
async function route() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  document.querySelectorAll("[data-nav]").forEach((a) => a.classList.toggle("active", a.dataset.nav === parts[0]));
  document.getElementById("sign-out").hidden = !state.credential;
  if (!state.credential) {
    state.user = null;
    document.getElementById("who").textContent = "";
    return signInPage();
  }
  if (!state.user) {
    state.user = await api("GET", "/me").catch(() => null);
    if (state.user) document.getElementById("who").textContent = `${state.user.name} (${state.user.roles.join(", ")})`;
  }
  try {
    if (parts[0] === "publisher" && parts[1] === "api") return await publisherApiPage(parts[2]);
    if (parts[0] === "portal" && parts[1] === "api" && parts[3] === "subscribe") return await wizardPage(parts[2]);
    if (parts[0] === "portal" && parts[1] === "api") return await portalApiPage(parts[2]);
    if (parts[0] === "portal") return await portalPage();
    if (parts[0] === "applications" && parts[1]) return await applicationPage(parts[1]);
    if (parts[0] === "applications") return await applicationsPage();
    return await publisherPage();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return;
    render(h("h1", {}, "Something went wrong"), h("p", { class: "form-error", role: "alert" }, err.message));
  }
}
window.addEventListener("hashchange", route);
document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("sign-out").addEventListener("click", () => signOut());
  route();
});
