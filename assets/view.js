// znfield's interactive electrode viewer (view.html): the electrode surface drawn on a 2D canvas,
// coloured by a chosen nodal quantity (viridis) and lit; drag to rotate, wheel to zoom, the
// selector picks the quantity. No network, no WebGL: triangles are sorted back to front and
// filled (painter's algorithm), which is fast enough for the few hundred thousand triangles
// znfield writes here.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("znfield-data").textContent);
  const decode = (b64, Type) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    return new Type(bytes.buffer);
  };
  const points = decode(data.points, Float32Array); // x, y, z in micrometres
  const tris = decode(data.triangles, Uint32Array);
  const quantities = data.quantities.map((q) => ({ name: q.name, values: decode(q.values, Float32Array) }));
  const viridis = data.viridis; // 256 [r, g, b]
  const canvas = document.getElementById("view");
  const ctx = canvas.getContext("2d");
  const select = document.getElementById("quantity");
  quantities.forEach((q, k) => select.add(new Option(q.name, k)));

  // The view: yaw about z, pitch about the screen's horizontal axis, zoom.
  const n = points.length / 3;
  let lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < n; i++) for (let a = 0; a < 3; a++) {
    lo[a] = Math.min(lo[a], points[3 * i + a]);
    hi[a] = Math.max(hi[a], points[3 * i + a]);
  }
  // What the view is centred on and fits: the whole electrode, or the first protrusion.
  const whole = {
    centre: [0, 1, 2].map((a) => 0.5 * (lo[a] + hi[a])),
    radius: Math.max(1e-12, 0.5 * Math.hypot(hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2])),
  };
  const view = { yaw: -Math.PI / 3, pitch: 0.6, zoom: 1, target: data.focus || whole };
  const focusButton = document.getElementById("focus");
  if (data.focus) {
    focusButton.addEventListener("click", () => { view.target = data.focus; view.zoom = 1; draw(); });
  } else {
    focusButton.style.display = "none";
  }
  document.getElementById("whole").addEventListener("click", () => { view.target = whole; view.zoom = 1; draw(); });

  function draw() {
    const q = quantities[select.value | 0];
    let vmin = Infinity, vmax = -Infinity;
    for (const v of q.values) if (Number.isFinite(v)) { vmin = Math.min(vmin, v); vmax = Math.max(vmax, v); }
    const span = vmax > vmin ? vmax - vmin : 1;
    const [cy, sy, cp, sp] = [Math.cos(view.yaw), Math.sin(view.yaw), Math.cos(view.pitch), Math.sin(view.pitch)];
    const [centre, radius] = [view.target.centre, view.target.radius];
    const scale = (0.45 * Math.min(canvas.width, canvas.height) * view.zoom) / radius;
    // View coordinates (right, up, depth into the screen) and screen position of every node.
    const U = new Float32Array(n), V = new Float32Array(n), depth = new Float32Array(n);
    const sx = new Float32Array(n), syy = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const x = points[3 * i] - centre[0], y = points[3 * i + 1] - centre[1], z = points[3 * i + 2] - centre[2];
      // (right, forward, up) = (U, w, z) before pitching; the viewer looks down at the pitch
      // angle, so the screen's up is (sin p forward + cos p up) and depth is along the gaze.
      const w = sy * x + cy * y;
      U[i] = cy * x - sy * y;
      V[i] = cp * z + sp * w;
      depth[i] = cp * w - sp * z;
      sx[i] = 0.5 * canvas.width + scale * U[i];
      syy[i] = 0.5 * canvas.height - scale * V[i];
    }
    const m = tris.length / 3;
    const order = new Uint32Array(m);
    const key = new Float32Array(m);
    for (let t = 0; t < m; t++) {
      order[t] = t;
      key[t] = depth[tris[3 * t]] + depth[tris[3 * t + 1]] + depth[tris[3 * t + 2]];
    }
    order.sort((a, b) => key[b] - key[a]); // far first
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    // Light from over the viewer's left shoulder, in view coordinates.
    const light = [-0.4, 0.6, -0.7];
    const ln = Math.hypot(...light);
    for (const t of order) {
      const [a, b, c] = [tris[3 * t], tris[3 * t + 1], tris[3 * t + 2]];
      const value = (q.values[a] + q.values[b] + q.values[c]) / 3;
      if (!Number.isFinite(value)) continue;
      // Lambert shading (either side of the surface lit).
      const e1 = [U[b] - U[a], V[b] - V[a], depth[b] - depth[a]];
      const e2 = [U[c] - U[a], V[c] - V[a], depth[c] - depth[a]];
      const nx = e1[1] * e2[2] - e1[2] * e2[1], ny = e1[2] * e2[0] - e1[0] * e2[2], nz = e1[0] * e2[1] - e1[1] * e2[0];
      const nn = Math.hypot(nx, ny, nz) || 1;
      const shade = 0.6 + 0.4 * Math.abs((nx * light[0] + ny * light[1] + nz * light[2]) / (nn * ln));
      const rgb = viridis[Math.max(0, Math.min(255, Math.round((255 * (value - vmin)) / span)))];
      ctx.fillStyle = `rgb(${rgb[0] * shade | 0},${rgb[1] * shade | 0},${rgb[2] * shade | 0})`;
      ctx.beginPath();
      ctx.moveTo(sx[a], syy[a]);
      ctx.lineTo(sx[b], syy[b]);
      ctx.lineTo(sx[c], syy[c]);
      ctx.closePath();
      ctx.fill();
      ctx.strokeStyle = ctx.fillStyle; // close the hairline gaps between neighbours
      ctx.stroke();
    }
    drawBar(q.name, vmin, vmax);
  }

  function drawBar(name, vmin, vmax) {
    const bar = document.getElementById("bar");
    const b = bar.getContext("2d");
    b.fillStyle = "#fff";
    b.fillRect(0, 0, bar.width, bar.height);
    const top = 20, bottom = bar.height - 20, left = 10, width = 24;
    for (let y = top; y < bottom; y++) {
      const rgb = viridis[Math.round((255 * (bottom - 1 - y)) / (bottom - top - 1))];
      b.fillStyle = `rgb(${rgb[0]},${rgb[1]},${rgb[2]})`;
      b.fillRect(left, y, width, 1);
    }
    b.fillStyle = "#000";
    b.font = "13px sans-serif";
    // Values within 1e-9 of the range of zero read 0 (a foot ring's -1.8e-11 A/m^2).
    const label = (v) => (Math.abs(v) <= 1e-9 * Math.max(Math.abs(vmin), Math.abs(vmax)) ? "0" : v.toPrecision(4));
    b.fillText(label(vmax), left + width + 6, top + 10);
    b.fillText(label(vmin), left + width + 6, bottom);
    // A range under 1% of the mean is mostly discretisation: say so (as the PNG maps do).
    const mean = 0.5 * (vmin + vmax);
    const spread = Math.abs(mean) > 0 ? (vmax - vmin) / Math.abs(mean) : Infinity;
    // (Not for potentials, whose zero is a convention.)
    const note = spread < 0.01 && !name.endsWith("V)") ? ` (nearly uniform: the colours span ${(100 * spread).toPrecision(2)}% of the mean)` : "";
    document.getElementById("quantity-name").textContent = note;
  }

  let dragging = null;
  canvas.addEventListener("mousedown", (e) => { dragging = [e.clientX, e.clientY]; });
  window.addEventListener("mouseup", () => { dragging = null; });
  window.addEventListener("mousemove", (e) => {
    if (!dragging) return;
    view.yaw += 0.01 * (e.clientX - dragging[0]);
    view.pitch = Math.max(-1.5, Math.min(1.5, view.pitch + 0.01 * (e.clientY - dragging[1])));
    dragging = [e.clientX, e.clientY];
    requestAnimationFrame(draw);
  });
  canvas.addEventListener("wheel", (e) => {
    e.preventDefault();
    view.zoom *= Math.exp(-0.001 * e.deltaY);
    requestAnimationFrame(draw);
  }, { passive: false });
  select.addEventListener("change", draw);

  draw();
  // For tests and scripts: how many pixels the first drawing coloured.
  const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  let coloured = 0;
  for (let k = 0; k < pixels.length; k += 4) if (pixels[k] < 250 || pixels[k + 1] < 250 || pixels[k + 2] < 250) coloured++;
  document.body.dataset.drawnPixels = String(coloured);
  document.body.dataset.triangles = String(tris.length / 3);
})();
