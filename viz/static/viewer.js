// stepgrad's step-through viewer: reset / prev / play / next / a slider over backward, on a
// graph laid out once (SVG); each step changes only the gradient texts and the colours.
// One file for both front ends: the Jupyter widget (anywidget calls `render`) and the offline
// HTML page of viz.export_html (which calls `mount` on its inline SVG). Text is only ever set
// with textContent, so labels cannot inject markup.

const FILL = { current: "#ffa94d", partial: "#fff3bf", done: "#b2f2bb" };
const KEYS = { current: "this step", partial: "gradient being summed", done: "gradient complete" };

function button(label, action, title) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.title = title;
  b.dataset.action = action;
  b.className = "stepgrad-" + action;
  return b;
}

function chip(colour, text) {
  const s = document.createElement("span");
  s.className = "stepgrad-chip";
  const c = document.createElement("i");
  c.style.background = colour;
  s.append(c, document.createTextNode(text));
  return s;
}

// Build the viewer in `el` around `svg`; `onStep(k)` is told whenever the user moves.
export function mount(el, data, svg, onStep) {
  const steps = data.steps;
  const N = steps.length;
  el.classList.add("stepgrad");
  el.tabIndex = 0;

  const bar = document.createElement("div");
  bar.className = "stepgrad-bar";
  const reset = button("⟲ reset", "reset", "back to the start: no gradients yet");
  const prev = button("◀ prev", "prev", "previous step (←)");
  const play = button("▶ play", "play", "play through the steps (space)");
  const next = button("next ▶", "next", "next step (→)");
  const slider = document.createElement("input");
  slider.type = "range";
  slider.min = "0";
  slider.max = String(N);
  slider.value = "0";
  slider.className = "stepgrad-slider";
  slider.setAttribute("aria-label", "step");
  const status = document.createElement("span");
  status.className = "stepgrad-status";
  bar.append(reset, prev, play, next, slider, status);

  const graph = document.createElement("div");
  graph.className = "stepgrad-graph";
  graph.append(svg);
  const panel = document.createElement("pre");
  panel.className = "stepgrad-panel";
  const legend = document.createElement("div");
  legend.className = "stepgrad-legend";
  for (const k of Object.keys(FILL)) legend.append(chip(FILL[k], KEYS[k]));
  for (const [k, c] of Object.entries(data.legend || {})) legend.append(chip(c, k));
  el.replaceChildren(bar, graph, panel, legend);

  // the value nodes that get a gradient: their shape and their last text row (the grad)
  const nodes = new Map();
  for (const id of data.nodes) {
    const g = svg.querySelector("#" + CSS.escape(id));
    if (!g) continue;
    const shape = g.querySelector("path, polygon, ellipse, rect");
    const texts = g.querySelectorAll("text");
    if (!shape || !texts.length) continue;
    nodes.set(id, {
      g,
      shape,
      text: texts[texts.length - 1],
      fill: shape.getAttribute("fill"),
      width: shape.getAttribute("stroke-width") || "1",
    });
  }

  let current = -1;
  let timer = null;

  function stop() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    play.textContent = "▶ play";
  }

  // scroll the graph (not the page) so that the current node is in view
  function reveal(g) {
    const box = g.getBoundingClientRect();
    const view = graph.getBoundingClientRect();
    if (!box.width || !view.width) return;
    if (box.left < view.left || box.right > view.right)
      graph.scrollLeft += (box.left + box.right) / 2 - (view.left + view.right) / 2;
    if (box.top < view.top || box.bottom > view.bottom)
      graph.scrollTop += (box.top + box.bottom) / 2 - (view.top + view.bottom) / 2;
  }

  function show(k, quiet) {
    k = Math.max(0, Math.min(N, Number(k) || 0));
    const text = new Map();
    const state = new Map();
    for (let i = 0; i < k; i++) {
      for (const [id, t] of steps[i].set) {
        text.set(id, t);
        if (state.get(id) !== "done") state.set(id, "partial");
      }
      state.set(steps[i].node, "done");
    }
    if (k > 0) state.set(steps[k - 1].node, "current");
    for (const [id, n] of nodes) {
      n.text.textContent = text.has(id) ? text.get(id) : data.blank;
      const st = state.get(id);
      n.shape.setAttribute("fill", st ? FILL[st] : n.fill);
      n.shape.setAttribute("stroke-width", st === "current" ? "3" : n.width);
      n.g.classList.toggle("stepgrad-current", st === "current");
    }
    if (k > 0 && nodes.has(steps[k - 1].node)) reveal(nodes.get(steps[k - 1].node).g);
    panel.textContent = k === 0 ? data.intro : steps[k - 1].lines.join("\n");
    status.textContent =
      k === 0 ? `step 0 / ${N}` : `step ${k} / ${N}: ${steps[k - 1].name} (${steps[k - 1].op || "leaf"})`;
    slider.value = String(k);
    prev.disabled = reset.disabled = k === 0;
    next.disabled = k === N;
    const moved = k !== current;
    current = k;
    if (moved && onStep && !quiet) onStep(k);
  }

  function toggle() {
    if (timer !== null) return stop();
    if (current >= N) show(0);
    play.textContent = "❚❚ pause";
    timer = setInterval(() => (current >= N ? stop() : show(current + 1)), data.interval || 800);
  }

  reset.addEventListener("click", () => (stop(), show(0)));
  prev.addEventListener("click", () => (stop(), show(current - 1)));
  next.addEventListener("click", () => (stop(), show(current + 1)));
  play.addEventListener("click", toggle);
  slider.addEventListener("input", () => (stop(), show(slider.value)));
  el.addEventListener("keydown", (e) => {
    if (e.target === slider) return;
    const moves = { ArrowRight: 1, ArrowLeft: -1 };
    if (e.key in moves) show(current + moves[e.key]);
    else if (e.key === " ") toggle();
    else return;
    e.preventDefault();
  });

  return {
    show,
    stop,
    get step() {
      return current;
    },
  };
}

function parseSvg(text) {
  const doc = new DOMParser().parseFromString(text || "", "image/svg+xml");
  const root = doc.documentElement;
  if (!root || root.nodeName !== "svg") {
    const p = document.createElement("p");
    p.textContent = "stepgrad: the graph's SVG could not be read";
    return p;
  }
  return document.importNode(root, true);
}

// anywidget entry point: the Python side holds `svg`, `data` and `step` (synced both ways)
function render({ model, el }) {
  const ctl = mount(el, model.get("data"), parseSvg(model.get("svg")), (k) => {
    model.set("step", k);
    model.save_changes();
  });
  const onChange = () => {
    if (model.get("step") !== ctl.step) ctl.show(model.get("step"), true);
  };
  model.on("change:step", onChange);
  ctl.show(model.get("step"), true);
  return () => {
    ctl.stop();
    model.off("change:step", onChange);
  };
}

export default { render };
