// stepgrad's playground (viz.playground): appended to viewer.js by viz/playground_widget.py, so
// `mount` and `parseSvg` above are in scope (the step-through of a batch's loss).
// Training runs in the kernel; this page drives it: while playing it asks for one slice
// ({do: "train", ms}) and asks again only after the kernel's `done`, on the next frame.

const PG_SLICE_MS = 30; // kernel time per slice while playing
const PG_LRS = [0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const PG_ORANGE = [245, 147, 34]; // class 0, negative weights
const PG_BLUE = [8, 119, 189]; // class 1, positive weights

function pgEl(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

// a value in [-1, 1] to a colour: orange below 0, white at 0, blue above (TF Playground's)
function pgColour(t, light) {
  const c = t < 0 ? PG_ORANGE : PG_BLUE;
  const a = Math.min(1, Math.abs(t)) * (light ? 0.62 : 1);
  return [255 + (c[0] - 255) * a, 255 + (c[1] - 255) * a, 255 + (c[2] - 255) * a];
}

function pgBytes(v) {
  if (!v) return new Uint8Array(0);
  if (v instanceof DataView) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  return new Uint8Array(0);
}

// paint n x n bytes (0..255 = -1..1) into a canvas of n x n pixels
function pgPaint(canvas, bytes, offset, n, light) {
  canvas.width = n;
  canvas.height = n;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(n, n);
  for (let i = 0; i < n * n; i++) {
    const rgb = pgColour((bytes[offset + i] / 255) * 2 - 1, light);
    img.data[4 * i] = rgb[0];
    img.data[4 * i + 1] = rgb[1];
    img.data[4 * i + 2] = rgb[2];
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

function pgSelect(label, options, value, onChange, fmt) {
  const wrap = pgEl("label", "pg-control");
  wrap.append(pgEl("span", "pg-label", label));
  const s = pgEl("select");
  s.setAttribute("aria-label", label);
  for (const o of options) {
    const opt = pgEl("option", null, fmt ? fmt(o) : String(o));
    opt.value = String(o);
    s.append(opt);
  }
  s.value = String(value);
  s.addEventListener("change", () => onChange(s.value));
  wrap.append(s);
  return { wrap, input: s };
}

function pgRange(label, min, max, value, onChange) {
  const wrap = pgEl("label", "pg-control");
  wrap.append(pgEl("span", "pg-label", label));
  const r = pgEl("input");
  r.type = "range";
  r.min = String(min);
  r.max = String(max);
  r.value = String(value);
  r.setAttribute("aria-label", label);
  const out = pgEl("span", "pg-value", String(value));
  r.addEventListener("input", () => (out.textContent = r.value));
  r.addEventListener("change", () => onChange(Number(r.value)));
  wrap.append(r, out);
  return { wrap, input: r, out };
}

function pgButton(text, cls, title) {
  const b = pgEl("button", cls, text);
  b.type = "button";
  b.title = title;
  return b;
}

function renderPlayground({ model, el }) {
  el.classList.add("stepgrad-playground");
  let playing = false;
  let waiting = false; // a request is out; never send another before its `done`
  let frame = null;
  let slices = 0;
  let lastSlice = 0;

  const send = (msg) => {
    waiting = true;
    model.send(msg);
  };
  const set = (name, value) => {
    model.set(name, value);
    model.save_changes();
  };

  // --- the bar -----------------------------------------------------------------------------
  const bar = pgEl("div", "pg-bar");
  const playB = pgButton("▶ play", "pg-play", "train continuously (the kernel trains, this page draws)");
  const stepB = pgButton("step", "pg-step", "train one batch");
  const resetB = pgButton("⟲ reset", "pg-reset", "new initial weights");
  const inspectB = pgButton("step through the next batch", "pg-inspect",
    "open the step-through of the loss of the batch `step` trains next");
  const counter = pgEl("span", "pg-counter");
  bar.append(playB, stepB, resetB, inspectB, counter);

  const controls = pgEl("div", "pg-controls");
  const ds = pgSelect("data", ["moons", "circles", "spirals", "xor"], model.get("dataset"),
    (v) => set("dataset", v));
  const depth = pgRange("hidden layers", 0, 6, model.get("depth"), (v) => set("depth", v));
  const width = pgRange("neurons", 1, 16, model.get("width"), (v) => set("width", v));
  const act = pgSelect("activation", ["tanh", "relu", "sigmoid", "linear"],
    model.get("activation"), (v) => set("activation", v));
  const opt = pgSelect("optimizer", ["sgd", "adam"], model.get("optimizer"),
    (v) => set("optimizer", v));
  const lrs = PG_LRS.includes(model.get("lr")) ? PG_LRS : [...PG_LRS, model.get("lr")].sort((a, b) => a - b);
  const lr = pgSelect("learning rate", lrs, model.get("lr"), (v) => set("lr", Number(v)));
  const bs = pgRange("batch size", 1, 30, model.get("batch_size"), (v) => set("batch_size", v));
  controls.append(ds.wrap, depth.wrap, width.wrap, act.wrap, opt.wrap, lr.wrap, bs.wrap);

  // --- the network, the boundary and the loss ------------------------------------------------
  const main = pgEl("div", "pg-main");
  const net = pgEl("div", "pg-net");
  const right = pgEl("div", "pg-right");
  const plane = pgEl("div", "pg-plane");
  const boundary = pgEl("canvas", "pg-boundary");
  boundary.setAttribute("aria-label", "decision boundary");
  const dots = pgEl("canvas", "pg-points");
  plane.append(boundary, dots);
  const lossText = pgEl("div", "pg-loss-text");
  const lossCanvas = pgEl("canvas", "pg-loss");
  lossCanvas.setAttribute("aria-label", "loss curve");
  const legend = pgEl("div", "pg-legend",
    "orange: class 0 · blue: class 1 · hollow points: test (held out) · " +
    "lines: weights (blue +, orange −, thicker = larger)");
  right.append(plane, lossText, lossCanvas);
  main.append(net, right);
  const err = pgEl("div", "pg-error");
  const inspect = pgEl("div", "pg-inspect-area");
  el.append(bar, controls, main, legend, err, inspect);

  // --- drawing -----------------------------------------------------------------------------
  const PLANE = 300;
  function drawPoints() {
    const pts = model.get("points") || [];
    const ext = model.get("extent") || 1;
    dots.width = PLANE;
    dots.height = PLANE;
    const ctx = dots.getContext("2d");
    ctx.clearRect(0, 0, PLANE, PLANE);
    for (const [x, y, label, test] of pts) {
      const px = ((x / ext + 1) / 2) * PLANE;
      const py = ((1 - y / ext) / 2) * PLANE;
      const c = label ? PG_BLUE : PG_ORANGE;
      ctx.beginPath();
      ctx.arc(px, py, 3.6, 0, 2 * Math.PI);
      ctx.lineWidth = test ? 1.6 : 1;
      if (test) {
        ctx.fillStyle = "white";
        ctx.strokeStyle = `rgb(${c})`;
      } else {
        ctx.fillStyle = `rgb(${c})`;
        ctx.strokeStyle = "white";
      }
      ctx.fill();
      ctx.stroke();
    }
  }

  function drawBoundary() {
    const n = model.get("res");
    const bytes = pgBytes(model.get("boundary"));
    if (bytes.length !== n * n) return;
    pgPaint(boundary, bytes, 0, n, true);
    boundary.dataset.batches = String(model.get("batches"));
  }

  function drawLoss() {
    const h = model.get("history") || [];
    const W = 300, H = 90;
    lossCanvas.width = W;
    lossCanvas.height = H;
    const ctx = lossCanvas.getContext("2d");
    ctx.clearRect(0, 0, W, H);
    const last = h[h.length - 1];
    const fmt = (v) => (v === null || v === undefined ? "nan" : v.toFixed(3));
    lossText.textContent = last
      ? `test loss ${fmt(last[2])}   training loss ${fmt(last[1])}`
      : "";
    if (h.length < 1) return;
    let top = 0;
    for (const r of h) for (const v of [r[1], r[2]]) if (v !== null && isFinite(v)) top = Math.max(top, v);
    top = top || 1;
    const x0 = h[0][0], x1 = Math.max(h[h.length - 1][0], x0 + 1);
    ctx.strokeStyle = "#dee2e6";
    ctx.beginPath();
    ctx.moveTo(0, H - 0.5);
    ctx.lineTo(W, H - 0.5);
    ctx.stroke();
    for (const [k, colour] of [[1, "#adb5bd"], [2, "#212529"]]) {
      ctx.strokeStyle = colour;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      let pen = false;
      for (const r of h) {
        const v = r[k];
        if (v === null || !isFinite(v)) { pen = false; continue; }
        const px = ((r[0] - x0) / (x1 - x0)) * (W - 4) + 2;
        const py = H - 3 - (Math.min(v, top) / top) * (H - 8);
        if (pen) ctx.lineTo(px, py); else ctx.moveTo(px, py);
        pen = true;
      }
      ctx.stroke();
    }
  }

  // the network: a column of neurons per layer, each a picture of its output over the plane;
  // links coloured by the weight's sign, as thick as its size
  function drawNet() {
    const sizes = model.get("sizes") || [];
    const ws = model.get("weights") || [];
    const t = model.get("thumb");
    const pix = pgBytes(model.get("neurons"));
    const res = model.get("res");
    const S = 30, GAP = 10, COL = 78;
    const tall = Math.max(...sizes) * (S + GAP);
    const W = (sizes.length - 1) * COL + S + 8;
    net.textContent = "";
    net.style.width = `${W}px`;
    net.style.height = `${tall}px`;
    const pos = sizes.map((n, l) => {
      const y0 = (tall - n * (S + GAP) + GAP) / 2;
      return Array.from({ length: n }, (_, i) => [4 + l * COL, y0 + i * (S + GAP)]);
    });
    const NS = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(NS, "svg");
    svg.setAttribute("width", String(W));
    svg.setAttribute("height", String(tall));
    svg.classList.add("pg-links");
    let top = 1e-9;
    for (const layer of ws) for (const row of layer.w) for (const v of row) top = Math.max(top, Math.abs(v));
    ws.forEach((layer, l) => {
      layer.w.forEach((row, i) => row.forEach((v, j) => {
        const a = pos[l][i], b = pos[l + 1][j];
        if (!a || !b) return;
        const line = document.createElementNS(NS, "path");
        const x1 = a[0] + S, y1 = a[1] + S / 2, x2 = b[0], y2 = b[1] + S / 2;
        const mx = (x1 + x2) / 2;
        line.setAttribute("d", `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`);
        line.setAttribute("stroke", `rgb(${v < 0 ? PG_ORANGE : PG_BLUE})`);
        line.setAttribute("stroke-width", String(0.3 + 3.2 * Math.abs(v) / top));
        line.setAttribute("fill", "none");
        const tip = document.createElementNS(NS, "title");
        tip.textContent = `layers.${l}.weight[${i}, ${j}] = ${v}`;
        line.append(tip);
        svg.append(line);
      }));
    });
    net.append(svg);
    let k = 0;
    sizes.forEach((n, l) => {
      for (let i = 0; i < n; i++) {
        const c = pgEl("canvas", "pg-neuron");
        c.style.left = `${pos[l][i][0]}px`;
        c.style.top = `${pos[l][i][1]}px`;
        c.style.width = `${S}px`;
        c.style.height = `${S}px`;
        if (l === 0) {
          c.title = i === 0 ? "input x1" : "input x2";
          const b = new Uint8Array(t * t);
          for (let r = 0; r < t; r++)
            for (let q = 0; q < t; q++) b[r * t + q] = Math.round(255 * (i === 0 ? q / (t - 1) : 1 - r / (t - 1)));
          pgPaint(c, b, 0, t, false);
        } else if (l === sizes.length - 1) {
          c.title = "output: the probability of class 1";
          const b = pgBytes(model.get("boundary"));
          if (b.length === res * res) pgPaint(c, b, 0, res, false);
        } else {
          c.title = `layers.${l - 1} neuron ${i}: its output over the plane`;
          if (pix.length >= (k + 1) * t * t) pgPaint(c, pix, k * t * t, t, false);
          k++;
        }
        net.append(c);
      }
    });
  }

  function drawCounter() {
    const b = model.get("batches");
    counter.textContent = `batch ${b} · epoch ${model.get("epoch")}`;
    counter.dataset.batches = String(b);
  }

  let pending = null; // one redraw per frame, however many traits one update changed
  function scheduleDraw() {
    if (pending === null) pending = requestAnimationFrame(drawAll);
  }
  function drawAll() {
    pending = null;
    const t0 = performance.now();
    drawBoundary();
    drawNet();
    drawLoss();
    drawCounter();
    err.textContent = model.get("error") || "";
    el.dataset.drawMs = (performance.now() - t0).toFixed(2); // read by benchmarks/playground.py
  }

  // --- the step-through of the next batch ----------------------------------------------------
  let viewer = null;
  function drawInspect() {
    if (viewer) {
      viewer.stop();
      viewer = null;
    }
    inspect.textContent = "";
    const spec = model.get("inspect") || {};
    if (!spec.svg) {
      inspectB.disabled = false;
      return;
    }
    const head = pgEl("div", "pg-inspect-head");
    const title = pgEl("span", "pg-inspect-title", spec.title || "");
    const close = pgButton("✕ close", "pg-close", "close the step-through");
    close.addEventListener("click", () => set("inspect", {}));
    head.append(title, close);
    const box = pgEl("div", "pg-viewer");
    inspect.append(head, box);
    viewer = mount(box, spec.data, parseSvg(spec.svg), null, { autoHeight: true });
    viewer.show(0, true);
  }

  // --- driving the kernel --------------------------------------------------------------------
  function setPlaying(on) {
    playing = on;
    playB.textContent = on ? "❚❚ pause" : "▶ play";
    playB.setAttribute("aria-pressed", String(on));
    stepB.disabled = on;
    if (on) {
      set("inspect", {});
      tick();
    } else if (frame !== null) {
      cancelAnimationFrame(frame);
      frame = null;
    }
  }
  function tick() {
    frame = null;
    if (!playing || waiting) return;
    lastSlice = performance.now();
    send({ do: "train", ms: PG_SLICE_MS });
  }
  const onMsg = (msg) => {
    if (!msg || !msg.done) return;
    waiting = false;
    if (msg.done === "train") {
      slices++;
      el.dataset.slices = String(slices);
      el.dataset.sliceMs = String(Math.round(performance.now() - lastSlice));
    }
    if (msg.done === "inspect") inspectB.disabled = false;
    if (playing && frame === null) frame = requestAnimationFrame(tick);
  };
  playB.addEventListener("click", () => setPlaying(!playing));
  stepB.addEventListener("click", () => {
    if (!playing && !waiting) {
      lastSlice = performance.now();
      send({ do: "train", n: 1 });
    }
  });
  resetB.addEventListener("click", () => {
    setPlaying(false);
    if (!waiting) send({ do: "reset" });
  });
  inspectB.addEventListener("click", () => {
    setPlaying(false);
    inspectB.disabled = true;
    const ask = () => (waiting ? setTimeout(ask, 20) : send({ do: "inspect" }));
    ask();
  });

  const syncControls = () => {
    ds.input.value = model.get("dataset");
    depth.input.value = depth.out.textContent = String(model.get("depth"));
    width.input.value = width.out.textContent = String(model.get("width"));
    act.input.value = model.get("activation");
    opt.input.value = model.get("optimizer");
    lr.input.value = String(model.get("lr"));
    bs.input.value = bs.out.textContent = String(model.get("batch_size"));
  };
  const events = [
    ["msg:custom", onMsg],
    ["change:points change:extent", drawPoints],
    ["change:boundary change:weights change:history change:batches change:neurons change:error", scheduleDraw],
    ["change:inspect", drawInspect],
    ["change:dataset change:depth change:width change:activation change:optimizer change:lr change:batch_size", syncControls],
  ];
  for (const [name, fn] of events) for (const n of name.split(" ")) model.on(n, fn);
  drawPoints();
  drawAll();
  drawInspect();
  return () => {
    playing = false;
    if (frame !== null) cancelAnimationFrame(frame);
    if (pending !== null) cancelAnimationFrame(pending);
    if (viewer) viewer.stop();
    for (const [name, fn] of events) for (const n of name.split(" ")) model.off(n, fn);
  };
}

export default { render: renderPlayground };
