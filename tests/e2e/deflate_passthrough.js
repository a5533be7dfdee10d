// permessage-deflate pass-through (RFC 7692) end to end: a Node `ws` client with
// perMessageDeflate, as browsers offer it, through a real wsgate-engine (two shards) to a Node
// `ws` backend that accepts the offer. Text and binary, fragmented both ways, small and large,
// each compressed (threshold 0) and echoed back intact; then a backend whose answer does not
// match the offer gets the client a 502 with the reason.
//
//   node deflate_passthrough.js WSGATE_ENGINE SOURCE_DIR      (exit 0: passed)
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const net = require('net');

const [engineBin, sourceDir] = process.argv.slice(2);
const WebSocket = require(path.join(sourceDir, 'tools/node_modules/ws'));

function fail(msg) {
  console.error('FAIL: ' + msg);
  process.exit(1);
}
setTimeout(() => fail('timed out'), 60000).unref();

function listen(server) {
  return new Promise((resolve) => server.on('listening', () => resolve(server.address().port)));
}

async function main() {
  // The backend: echoes every message (same type); "fragments:N" is answered with N fragments.
  const backend = new WebSocket.Server({ host: '127.0.0.1', port: 0, perMessageDeflate: { threshold: 0 } });
  const backendPort = await listen(backend);
  let offerSeen = null;
  backend.on('connection', (ws, req) => {
    offerSeen = req.headers['sec-websocket-extensions'];
    if (!/permessage-deflate/.test(ws.extensions)) fail('the backend did not negotiate: ' + ws.extensions);
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? '' : data.toString();
      if (text.startsWith('fragments:')) {
        const n = Number(text.slice(10));
        for (let i = 0; i < n; ++i) ws.send('part' + i + '-'.repeat(5000), { fin: i === n - 1, compress: true });
        return;
      }
      ws.send(data, { binary: isBinary, compress: true });
    });
  });
  // A backend that answers permessage-deflate with a parameter the client did not offer.
  const rogue = net.createServer((sock) => {
    sock.once('data', (buf) => {
      const key = /sec-websocket-key: *(\S+)/i.exec(buf.toString())[1];
      const accept = require('crypto').createHash('sha1')
        .update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
      sock.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
                 'Sec-WebSocket-Accept: ' + accept + '\r\n' +
                 'Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=20\r\n\r\n');
    });
  });
  rogue.listen(0, '127.0.0.1');
  await new Promise((r) => rogue.on('listening', r));

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-deflate-'));
  const api = (id, ctx, port) => `apis { id: "${id}" name: "${id}" context: "/${ctx}" version: "1.0.0" state: PUBLISHED
    vhosts: "localhost" production_endpoint { url: "ws://127.0.0.1:${port}" }
    topics { name: "/echo" url_mapping: "/echo" unsecured: true } }\n`;
  fs.writeFileSync(path.join(dir, 'c.textproto'),
    'version: 1 agent_id: "e2e" vhosts { name: "localhost" aliases: "127.0.0.1" }\n' +
    api('echo', 'echo', backendPort) + api('rogue', 'rogue', rogue.address().port));
  const engine = spawn(engineBin, ['--config', path.join(dir, 'c.textproto'), '--ws-listen', '127.0.0.1:0',
                                   '--shards', '2', '--control', 'unix:' + path.join(dir, 'e.sock')]);
  let out = '';
  const port = await new Promise((resolve) => {
    const onData = (d) => {
      out += d;
      const m = /\(port (\d+)\)/.exec(out);
      if (m && /control on unix:/.test(out)) resolve(Number(m[1]));
    };
    engine.stdout.on('data', onData);
    engine.stderr.on('data', onData);
    engine.on('exit', (code) => fail('the engine exited ' + code + ':\n' + out));
  });

  const client = new WebSocket(`ws://127.0.0.1:${port}/echo/1.0.0/echo`, { perMessageDeflate: { threshold: 0 } });
  const messages = [];
  let waiter = null;
  client.on('message', (data, isBinary) => {
    messages.push({ data, isBinary });
    if (waiter) waiter();
  });
  await new Promise((resolve, reject) => { client.on('open', resolve); client.on('error', reject); });
  if (!/permessage-deflate/.test(client.extensions)) fail('the client did not negotiate: ' + client.extensions);
  if (!/permessage-deflate/.test(offerSeen)) fail('the offer did not reach the backend: ' + offerSeen);

  const next = () => new Promise((resolve) => {
    if (messages.length) return resolve(messages.shift());
    waiter = () => { waiter = null; resolve(messages.shift()); };
  });
  const check = async (what, send, expectBinary, expect) => {
    send();
    const m = await next();
    if (m.isBinary !== expectBinary) fail(what + ': wrong message type');
    if (!Buffer.from(m.data).equals(Buffer.from(expect))) fail(what + ': payload differs (' + m.data.length + ' bytes)');
    console.log('ok: ' + what);
  };
  const text = 'hello, compressed world! '.repeat(40);
  await check('text', () => client.send(text), false, text);
  const binary = Buffer.alloc(70000);
  for (let i = 0; i < binary.length; ++i) binary[i] = (i * 7) % 251;
  await check('binary', () => client.send(binary), true, binary);
  const large = 'x'.repeat(3 << 20) + 'end';
  await check('large text (3 MiB)', () => client.send(large), false, large);
  const random = require('crypto').randomBytes(1 << 20);  // incompressible
  await check('large binary (1 MiB random)', () => client.send(random), true, random);
  // Fragmented by the client: three frames, RSV1 on the first only.
  await check('fragmented by the client', () => {
    client.send('a'.repeat(3000), { fin: false });
    client.send('b'.repeat(3000), { fin: false });
    client.send('c'.repeat(3000), { fin: true });
  }, false, 'a'.repeat(3000) + 'b'.repeat(3000) + 'c'.repeat(3000));
  // Fragmented by the backend.
  let parts = '';
  for (let i = 0; i < 4; ++i) parts += 'part' + i + '-'.repeat(5000);
  await check('fragmented by the backend', () => client.send('fragments:4'), false, parts);
  // Pings from the engine and closes stay uncompressed: a clean close with the code intact.
  const closed = new Promise((resolve) => client.on('close', (code) => resolve(code)));
  client.close(4321, 'bye');
  const code = await closed;
  if (code !== 4321) fail('close code ' + code);
  console.log('ok: close');

  // A backend answer that is no acceptance of the offer: 502 with the reason.
  const refused = await new Promise((resolve) => {
    const r = new WebSocket(`ws://127.0.0.1:${port}/rogue/1.0.0/echo`, { perMessageDeflate: true });
    r.on('unexpected-response', (req, res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve(res.statusCode + ' ' + body));
    });
    r.on('open', () => resolve('opened'));
    r.on('error', () => {});
  });
  if (!/^502 Bad Gateway: backend's Sec-WebSocket-Extensions answer is invalid: server_max_window_bits must be 8 to 15/
    .test(refused)) fail('rogue backend: ' + refused);
  console.log('ok: 502 for an answer outside the offer');

  engine.removeAllListeners('exit');
  engine.kill('SIGTERM');
  await new Promise((r) => engine.on('exit', r));
  backend.close();
  rogue.close();
  fs.rmSync(dir, { recursive: true, force: true });
  console.log('PASS');
  process.exit(0);
}

main().catch((e) => fail(e.stack || String(e)));
