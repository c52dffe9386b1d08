// IOMMU Lens debug panel (runs in the webview; CSP: this nonce'd script only).
// Receives {type:'show', ...} from client/src/webview/debug-panel.ts; posts selectPath/selectStep
// back, and 'rendered' after each draw. Keeps {uri, functionName, pathIndex, stepIndex} as the
// webview state so the panel comes back after a reload.
(function () {
  const vscode = acquireVsCodeApi();
  const $ = (id) => document.getElementById(id);
  const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; };
  let model = null;

  function renderNodes(nodes, depth) {
    const ul = el('ul');
    for (const n of nodes) {
      const li = el('li');
      if (n.children && n.children.length && depth < 8) {
        const d = el('details');
        if (depth < 2) d.open = true;
        const s = el('summary', '', n.label);
        if (n.description) s.appendChild(el('span', 'desc', n.description));
        d.appendChild(s);
        d.appendChild(renderNodes(n.children, depth + 1));
        li.appendChild(d);
      } else {
        li.appendChild(el('span', '', n.label));
        if (n.description) li.appendChild(el('span', 'desc', n.description));
        if (n.tooltip) li.title = n.tooltip;
      }
      ul.appendChild(li);
    }
    return ul;
  }

  function render() {
    const m = model;
    const head = $('head'); head.textContent = '';
    head.appendChild(el('h1', '', m.functionName ? m.functionName + '()' : 'IOMMU Lens'));
    head.appendChild(el('div', 'sub', m.run ? 'path: ' + m.run.label + ' — ' + m.run.exit : 'no path run yet'));
    if (m.overBudget) head.appendChild(el('div', 'sub', 'exploration stopped early: ' + m.overBudget));

    const paths = $('paths'); paths.textContent = '';
    paths.appendChild(el('h2', '', 'Paths (' + m.paths.length + ')'));
    const pl = el('ul');
    m.paths.forEach((p, i) => {
      const b = el('button', 'item ' + (p.failAt === null ? 'ok' : 'fail') + (i === m.state.pathIndex ? ' selected' : ''), p.label);
      b.dataset.path = String(i);
      b.title = p.exit;
      for (const f of p.findings) b.appendChild(el('span', 'tag', f));
      b.addEventListener('click', () => vscode.postMessage({ type: 'selectPath', index: i }));
      const li = el('li'); li.appendChild(b); pl.appendChild(li);
    });
    paths.appendChild(pl);

    const steps = $('steps'); steps.textContent = '';
    steps.appendChild(el('h2', '', 'Steps' + (m.run ? ' (' + m.run.steps.length + ')' : '')));
    if (!m.run) steps.appendChild(el('div', 'empty', 'Choose a path.'));
    else {
      const sl = el('ul');
      m.run.steps.forEach((s, i) => {
        const b = el('button', 'item' + (i === m.state.stepIndex ? ' selected' : ''));
        b.dataset.step = String(i);
        b.appendChild(el('span', 'line', 'L' + (s.line + 1)));
        b.appendChild(el('span', 'call', s.call));
        if (s.result) b.appendChild(el('span', 'result', ' ' + s.result));
        b.addEventListener('click', () => vscode.postMessage({ type: 'selectStep', index: i }));
        const li = el('li'); li.appendChild(b);
        const values = Object.entries(s.values || {});
        if (values.length) li.appendChild(el('div', 'values', values.map(([k, v]) => k + ' = ' + v).join(', ')));
        if (s.events && s.events.length) {
          const ev = el('ul', 'events');
          for (const e of s.events) ev.appendChild(el('li', '', '[' + e.kind + '] ' + e.text));
          li.appendChild(ev);
        }
        sl.appendChild(li);
      });
      steps.appendChild(sl);
      steps.appendChild(el('div', 'exit', 'exit: ' + m.run.exit));
    }

    const state = $('state'); state.textContent = '';
    state.appendChild(el('h2', '', 'Emulator state' + (m.state.stepIndex >= 0 ? ' after step ' + (m.state.stepIndex + 1) : '')));
    if (m.stateNodes) state.appendChild(renderNodes(m.stateNodes, 0));
    else state.appendChild(el('div', 'empty', 'Choose a step to see the emulator state after it.'));

    vscode.setState(m.state);
    vscode.postMessage({ type: 'rendered', paths: m.paths.length, steps: m.run ? m.run.steps.length : 0, selectedStep: m.state.stepIndex });
  }

  window.addEventListener('message', (event) => {
    const msg = event.data;
    if (msg && msg.type === 'show') { model = msg; render(); }
  });
  vscode.postMessage({ type: 'ready' });
})();
