// The seed walkthrough, click by click, in headless Chromium against the agent's web console:
// the publisher creates Chats with both topics and the mapping, attaches AsyncGold, publishes and
// deploys; the developer runs the subscription & key wizard and gets the token and the wscat
// commands; two Try-it consoles on /rooms/room1 chat through the engine to the sample backend and
// a third on /notifications sees "Someone joined room1!"; an API key made on the application's
// page opens a console by ?apikey= and revoking it closes that console with 4001. Fails on any browser console error or
// page error that the script did not provoke. Driven by console_e2e_test.cc, which starts the
// processes and passes:
//   CONSOLE_URL, CREDENTIAL, ENGINE_WS (ws://127.0.0.1:PORT), BACKEND_WS, CHROMIUM, SHOTS (a directory)
"use strict";
const fs = require("fs");
const path = require("path");
const puppeteer = require("puppeteer-core");

const env = (k) => { if (!process.env[k]) throw new Error(`${k} is not set`); return process.env[k]; };
const CONSOLE = env("CONSOLE_URL"), CREDENTIAL = env("CREDENTIAL"), ENGINE_WS = env("ENGINE_WS");
const BACKEND_WS = env("BACKEND_WS"), SHOTS = env("SHOTS");
const step = (s) => console.log(`[console e2e] ${s}`);

const problems = [];
let expectedHttpErrors = 0;  // responses the script provokes on purpose (a bad endpoint URL)

async function newPage(browser, width = 1280, height = 800) {
  const page = await browser.newPage();
  page.setDefaultTimeout(15000);
  await page.setViewport({ width, height });
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    if (/Failed to load resource: the server responded with a status of 400/.test(m.text()) && expectedHttpErrors > 0) {
      expectedHttpErrors--;
      return;
    }
    problems.push(`console error on ${page.url()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error on ${page.url()}: ${e.message}`));
  return page;
}
const inForm = (form, name) => `form[aria-label="${form}"] [name="${name}"]`;
// The console re-renders a page when its data arrives, so an element found a moment ago can be
// replaced before it is used ("Node is detached from document"): such steps are retried on the
// new element, a few times, never on any other error.
async function retryDetached(step) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (e) {
      if (attempt >= 5 || !/detached|Execution context was destroyed/i.test(String(e && e.message))) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
// Input goes to the front tab only (a background tab's key events wait until it is shown).
async function fill(page, form, name, value) {
  await page.bringToFront();
  const sel = inForm(form, name);
  await retryDetached(async () => {
    await page.waitForSelector(sel, { visible: true });
    await page.$eval(sel, (el) => { el.value = ""; });
    await page.type(sel, value);
    const now = await page.$eval(sel, (el) => el.value);
    if (now !== value) throw new Error(`detached: ${sel} holds '${now}' after typing`);
  });
}
async function submit(page, form) {
  await page.bringToFront();
  await retryDetached(() => page.click(`form[aria-label="${form}"] button[type=submit]`));
}
async function choose(page, sel, value) {
  await page.waitForSelector(sel);
  await retryDetached(() => page.select(sel, value));
}
async function waitText(page, text, timeout = 10000) {
  await page.waitForFunction((t) => document.body.textContent.includes(t), { timeout, polling: 100 }, text);
}
async function clickButton(page, text) {
  await page.bringToFront();
  await page.waitForFunction((t) => [...document.querySelectorAll("button")].some((b) => b.textContent.trim() === t), {}, text);
  await page.evaluate((t) => [...document.querySelectorAll("button")].find((b) => b.textContent.trim() === t).click(), text);
}
async function shot(page, name) {
  await page.bringToFront();
  const file = path.join(SHOTS, name + ".png");
  await page.screenshot({ path: file, fullPage: true });
  if (fs.statSync(file).size < 1000) throw new Error(`screenshot ${file} is empty`);
}
async function signIn(page, hash) {
  await page.goto(CONSOLE + "/" + (hash || ""));
  await fill(page, "Sign in", "credential", CREDENTIAL);
  await submit(page, "Sign in");
  await page.waitForSelector("#sign-out:not([hidden])");
}

async function publisher(page) {
  step("publisher: create Chats (a bad endpoint first: the error shows next to its field)");
  await signIn(page, "#/publisher");
  await waitText(page, "No APIs yet");
  await fill(page, "Create API", "name", "Chats");
  await fill(page, "Create API", "context", "/chats");
  await fill(page, "Create API", "version", "1.0.0");
  await fill(page, "Create API", "production", "http://localhost:1");
  expectedHttpErrors++;
  await submit(page, "Create API");
  await page.waitForSelector('form[aria-label="Create API"] [name="production"][aria-invalid="true"]');
  const err = await page.$eval('form[aria-label="Create API"] [name="production"]', (el) => document.getElementById(el.id + "-err").textContent);
  if (!/ws:\/\/ or wss:\/\//.test(err)) throw new Error("the endpoint error is not next to its field: " + err);
  await fill(page, "Create API", "production", BACKEND_WS);
  await retryDetached(() => page.click('form[aria-label="Create API"] input[name="security"][value="api_key"]'));
  await submit(page, "Create API");
  await page.waitForFunction(() => location.hash.startsWith("#/publisher/api/"));
  await waitText(page, "Chats 1.0.0");
  const security = await page.$eval("#api-security", (el) => el.textContent);
  if (security !== "oauth2, api_key") throw new Error("security schemes: " + security);

  step("publisher: topics /notifications and /rooms/{roomID} with the URL mapping; delete /*");
  await retryDetached(() => page.click('button[aria-label="Delete topic /*"]'));
  await page.waitForFunction(() => !document.querySelector('button[aria-label="Delete topic /*"]'));
  await fill(page, "Add topic", "name", "/notifications");
  await fill(page, "Add topic", "mapping", "/notifications");
  await submit(page, "Add topic");
  await page.waitForSelector('button[aria-label="Delete topic /notifications"]');
  await fill(page, "Add topic", "name", "/rooms/{roomID}");
  await fill(page, "Add topic", "mapping", "/rooms?room={uri.var.roomID}");
  await submit(page, "Add topic");
  await page.waitForSelector('button[aria-label="Delete topic /rooms/{roomID}"]');
  await waitText(page, "/rooms?room={uri.var.roomID}");

  step("publisher: business plan AsyncGold, Publish, Deploy New Revision");
  await retryDetached(() => page.click('form[aria-label="Business plans"] input[value="AsyncGold"]'));
  await submit(page, "Business plans");
  await waitText(page, "Business plans saved");
  await clickButton(page, "Publish");
  await page.waitForFunction(() => document.getElementById("api-state").textContent === "PUBLISHED");
  await fill(page, "Create revision", "description", "first");
  await submit(page, "Create revision");
  await page.waitForSelector('form[aria-label="Deploy revision 1"]');
  await submit(page, "Deploy revision 1");
  await waitText(page, "Production and Sandbox (localhost)");
  await shot(page, "1-publisher-api");
  return page.evaluate(() => decodeURIComponent(location.hash.split("/")[3]));
}

async function developer(page, apiId) {
  step("developer portal: Chats is listed; subscription & key generation wizard");
  await page.goto(CONSOLE + "/#/portal");
  await page.waitForSelector(`a[href="#/portal/api/${apiId}"]`);
  await retryDetached(() => page.click(`a[href="#/portal/api/${apiId}"]`));
  await page.waitForSelector("#subscribe");
  await retryDetached(() => page.click("#subscribe"));
  await fill(page, "Application", "name", "ChatApp");
  await submit(page, "Application");
  await choose(page, 'form[aria-label="Subscription"] select[name="plan"]', "AsyncGold");
  await submit(page, "Subscription");
  await choose(page, 'form[aria-label="Keys"] select[name="keyType"]', "PRODUCTION");
  await submit(page, "Keys");
  await page.waitForSelector("#consumer-secret");
  await submit(page, "Access token");
  await page.waitForSelector("#access-token");
  const token = await page.$eval("#access-token", (el) => el.textContent);
  if (token.split(".").length !== 3) throw new Error("not a JWT: " + token);
  const commands = await page.$eval("#wscat-commands", (el) => el.textContent);
  for (const want of [
    `wscat -c ws://localhost:9099/chats/1.0.0/notifications -H "Authorization: Bearer ${token}"`,
    `wscat -n -c wss://localhost:8099/chats/1.0.0/rooms/room1 -H "Authorization: Bearer ${token}"`,
  ]) if (!commands.includes(want)) throw new Error("missing wscat command: " + want + "\nin:\n" + commands);
  await shot(page, "2-wizard-token");
  return token;
}

// The application page: an API key is created (a bad address range first: its error shows next to
// its field), shown once, listed by its prefix only.
async function apiKey(page) {
  step("applications: ChatApp's page creates an API key");
  await page.goto(CONSOLE + "/#/applications");
  await waitText(page, "ChatApp");
  await retryDetached(() => page.evaluate(() => [...document.querySelectorAll("a")].find((a) => a.textContent === "ChatApp").click()));
  await page.waitForSelector('form[aria-label="Create API key"]');
  await fill(page, "Create API key", "ipRanges", "10.0.0.300/8");
  expectedHttpErrors++;
  await submit(page, "Create API key");
  await page.waitForSelector('form[aria-label="Create API key"] [name="ipRanges"][aria-invalid="true"]');
  await fill(page, "Create API key", "ipRanges", "127.0.0.0/8 ::1/128");
  await fill(page, "Create API key", "validityDays", "1");
  await submit(page, "Create API key");
  await page.waitForSelector("#api-key");
  const key = await page.$eval("#api-key", (el) => el.textContent);
  if (!key.startsWith("wsk_")) throw new Error("not an API key: " + key);
  const listed = await page.$eval("#api-keys table", (el) => el.textContent);
  if (listed.includes(key) || !listed.includes(key.slice(0, 8)) || !listed.includes("127.0.0.0/8, ::1/128"))
    throw new Error("the key list must show the prefix and restrictions, never the key: " + listed);
  await shot(page, "2b-api-key");
  return key;
}

// One Try-it console on its own tab, connected through the engine.
async function tryIt(browser, apiId, token, topic, room, credentialType = "token") {
  const page = await newPage(browser);
  step(`  tab for ${topic} ${room || ""}: sign in`);
  await signIn(page, `#/portal/api/${encodeURIComponent(apiId)}`);
  await page.waitForSelector("#try-it");
  step("  connect");
  await fill(page, "Connect", "gateway", ENGINE_WS);
  await choose(page, 'form[aria-label="Connect"] select[name="topic"]', topic);
  if (room) await fill(page, "Connect", "param-roomID", room);
  await choose(page, 'form[aria-label="Connect"] select[name="credentialType"]', credentialType);
  await fill(page, "Connect", "token", token);
  await submit(page, "Connect");
  await page.waitForFunction(() => document.getElementById("try-status").textContent === "Connected.", { timeout: 10000 });
  return page;
}
// Polls on a timer, not on animation frames: a background tab renders no frames.
const logHas = (page, text) =>
  page.waitForFunction((t) => document.getElementById("try-log").textContent.includes(t), { timeout: 10000, polling: 100 }, text);

async function chat(browser, apiId, token) {
  step("try it: /notifications, then two consoles on /rooms/room1");
  const notes = await tryIt(browser, apiId, token, "/notifications");
  await logHas(notes, "Subscribed to notifications!");
  const alice = await tryIt(browser, apiId, token, "/rooms/{roomID}", "room1");
  await logHas(alice, "You joined room1!");
  await logHas(notes, "Someone joined room1!");
  const bob = await tryIt(browser, apiId, token, "/rooms/{roomID}", "room1");
  await logHas(bob, "You joined room1!");
  await fill(alice, "Send", "message", "hello from the console");
  await submit(alice, "Send");
  await logHas(bob, "hello from the console");
  await shot(bob, "3-try-it-chat");
  await clickButton(bob, "Disconnect");
  await bob.waitForFunction(() => document.getElementById("try-status").textContent.startsWith("Closed: 1000"));
  step("publisher: the API page's traffic card counts what the consoles relayed");
  const stats = await newPage(browser);
  await signIn(stats, `#/publisher/api/${encodeURIComponent(apiId)}`);
  const stat = (name) => stats.$eval(`td[data-stat="${name}"]`, (el) => el.textContent);
  await stats.waitForSelector('table[aria-label="Traffic"]');
  for (let i = 0; i < 50 && Number((await stat("Connections now"))) !== 2; i++) {  // bob's close reaches the engine
    await new Promise((r) => setTimeout(r, 100));
    await retryDetached(() => clickButton(stats, "Refresh"));
    await stats.waitForSelector('table[aria-label="Traffic"]');
  }
  const want = { "Connections now": /^2$/, "Connections since start": /^([3-9]|[1-9]\d+)$/, "Frames client → backend": /^[1-9]\d* \(\d+ bytes\)$/,
    "Frames backend → client": /^[1-9]\d* \(\d+ bytes\)$/, "Throttled frames": /^0$/ };
  for (const [name, re] of Object.entries(want)) {
    const got = await stat(name);
    if (!re.test(got)) throw new Error(`traffic card: ${name} is "${got}", want ${re}`);
  }
}

// A Try-it console on ?apikey= relays; revoking the key on ChatApp's page closes it with 4001.
async function apiKeyRelayAndRevoke(browser, page, apiId, key) {
  step("try it with the API key (?apikey=), then revoke it: the console closes with 4001");
  const viaKey = await tryIt(browser, apiId, key, "/notifications", null, "apikey");
  await logHas(viaKey, "Subscribed to notifications!");
  await page.bringToFront();
  await page.reload();
  await page.waitForSelector('#api-keys button[aria-label^="Revoke API key"]');
  await clickButton(page, "Revoke");
  await waitText(page, "No API keys");
  await viaKey.waitForFunction(() => document.getElementById("try-status").textContent.startsWith("Closed: 4001"), { timeout: 10000, polling: 100 });
}

async function narrowWindow(browser, apiId) {
  step("narrow window: the portal still renders");
  const narrow = await newPage(browser, 420, 800);
  await signIn(narrow, "#/portal");
  await narrow.waitForSelector(`a[href="#/portal/api/${apiId}"]`);
  await shot(narrow, "4-portal-narrow");
}

(async () => {
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"],
  });
  try {
    const page = await newPage(browser);
    const apiId = await publisher(page);
    const token = await developer(page, apiId);
    const key = await apiKey(page);
    await chat(browser, apiId, token);
    await apiKeyRelayAndRevoke(browser, page, apiId, key);
    await narrowWindow(browser, apiId);
    if (expectedHttpErrors !== 0) problems.push(`${expectedHttpErrors} provoked error(s) were not reported by the browser`);
  } catch (e) {
    // What each tab showed when it failed: the page's text and the Try-it log.
    for (const p of await browser.pages()) {
      const seen = await p.evaluate(() => document.body.innerText.slice(0, 1500)).catch(() => "(unreadable)");
      console.error(`--- tab ${p.url()}\n${seen}`);
    }
    throw e;
  } finally {
    await browser.close();
  }
  if (problems.length) {
    console.error(problems.join("\n"));
    process.exit(1);
  }
  step("passed");
})().catch((e) => {
  console.error("[console e2e] FAILED:", e && e.stack ? e.stack : e);
  if (problems.length) console.error(problems.join("\n"));
  process.exit(1);
});
