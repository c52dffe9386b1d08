// IOMMU Lens: draws the IOVA space as bands on a log-compressed address axis (runs in the webview).
// Rows: allocator ranges, page-table mappings, reserved regions. Receives {type:'state', title, segments}.
(function () {
  const vscode = acquireVsCodeApi();
  const NS = 'http://www.w3.org/2000/svg';
  const ROWS = ['allocated', 'mapped', 'reserved'];
  const LABELS = { allocated: 'IOVA allocator', mapped: 'page tables', reserved: 'reserved' };
  const svgEl = (tag, attrs) => { const e = document.createElementNS(NS, tag); for (const k in attrs) e.setAttribute(k, attrs[k]); return e; };
  const hex = (n) => '0x' + Math.floor(n).toString(16);

  function draw(msg) {
    document.getElementById('title').textContent = msg.title;
    const map = document.getElementById('map'); map.textContent = '';
    const legend = document.getElementById('legend'); legend.textContent = '';
    const segs = msg.segments || [];
    if (!segs.length) {
      const d = document.createElement('div'); d.className = 'empty'; d.textContent = 'No IOVA ranges in this state.'; map.appendChild(d);
      vscode.postMessage({ type: 'drawn', segments: 0 });
      return;
    }
    // Address axis: the span of all segments, each boundary placed by rank so small ranges far apart stay visible.
    const points = Array.from(new Set(segs.flatMap((s) => [s.start, s.start + s.size]))).sort((a, b) => a - b);
    const W = 600, left = 90, right = 10, rowH = 22, top = 8;
    const x = (addr) => { let i = 0; while (i < points.length - 1 && points[i + 1] <= addr) i++;
      const frac = i < points.length - 1 ? (addr - points[i]) / (points[i + 1] - points[i]) : 0;
      return left + ((i + frac) / Math.max(1, points.length - 1)) * (W - left - right); };
    const H = top + ROWS.length * rowH + 40;
    const svg = svgEl('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img' });
    ROWS.forEach((row, r) => {
      const y = top + r * rowH;
      const label = svgEl('text', { x: 0, y: y + 14, class: 'tick' }); label.textContent = LABELS[row]; svg.appendChild(label);
      svg.appendChild(svgEl('line', { x1: left, x2: W - right, y1: y + rowH - 2, y2: y + rowH - 2, class: 'axis' }));
      for (const s of segs.filter((s) => s.kind === row)) {
        const rect = svgEl('rect', { x: x(s.start), y: y + 3, width: Math.max(2, x(s.start + s.size) - x(s.start)), height: rowH - 8, class: row });
        const t = svgEl('title', {}); t.textContent = s.label; rect.appendChild(t); svg.appendChild(rect);
      }
    });
    points.forEach((p, i) => {
      if (points.length > 12 && i % Math.ceil(points.length / 12)) return;
      const t = svgEl('text', { x: x(p), y: top + ROWS.length * rowH + 14 + (i % 2) * 12, class: 'tick', 'text-anchor': 'middle' });
      t.textContent = hex(p); svg.appendChild(t);
    });
    map.appendChild(svg);
    for (const s of segs) {
      const li = document.createElement('li'); const sw = document.createElement('span'); sw.className = 'swatch ' + s.kind;
      li.appendChild(sw); li.appendChild(document.createTextNode(s.label)); legend.appendChild(li);
    }
    vscode.postMessage({ type: 'drawn', segments: segs.length });
  }

  window.addEventListener('message', (e) => { if (e.data && e.data.type === 'state') draw(e.data); });
  vscode.postMessage({ type: 'ready' });
})();
