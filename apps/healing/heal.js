// The healer's candidate collector: every plausible element of the live page with its fingerprint,
// visibility, enabled state and a CSS selector unique in the page, in ONE script round trip.
//
// It runs with the helpers of the engine's locate.js in scope (`lib`: fingerprint, isVisible, isEnabled,
// norm, roleOf), so a candidate's fingerprint is computed by exactly the code that recorded the baseline.
// argusHealCollect(lib, baseline, options) answers {candidates: [{selector, fingerprint, visible, enabled,
// index, parent}], total, url}: `total` counts the plausible elements before the cap, `index` numbers the
// kept ones and `parent` is the index of the nearest kept candidate that contains this one, or -1.
function argusHealCollect(lib, baseline, options) {
  const norm = lib.norm;
  const maxCandidates = options.max_candidates || 150;
  const TEST_ID_ATTRIBUTES = ["data-testid", "data-test-id", "data-test", "data-qa"];
  const INTERACTIVE = "a, button, input:not([type=hidden i]), select, textarea, summary, label, option, [role], " +
    "[tabindex], [contenteditable=''], [contenteditable=true i], [onclick], " +
    TEST_ID_ATTRIBUTES.map((attr) => `[${attr}]`).join(", ");
  const TEXT_TAGS = "h1, h2, h3, h4, h5, h6, p, span, li, td, th, dt, dd, strong, em, b, i, small, legend, " +
    "caption, figcaption, div, blockquote, pre, code, time, mark";
  const FORM_TAGS = new Set(["input", "select", "textarea"]);
  const baseTag = (baseline.tag || "").toLowerCase();
  const baseText = norm(baseline.text || baseline.accessible_name || "");
  // A text-bearing target may have become (or been) a plain text element; a form control never does.
  const textBearing = !FORM_TAGS.has(baseTag) && baseText.length > 0;

  function hasOwnText(el) {
    for (const node of el.childNodes) if (node.nodeType === Node.TEXT_NODE && node.data.trim()) return true;
    return false;
  }

  const seen = new Set();
  const found = [];
  const add = (el) => { if (!seen.has(el)) { seen.add(el); found.push(el); } };
  for (const el of document.querySelectorAll(INTERACTIVE)) add(el);
  if (/^[a-z][a-z0-9-]*$/.test(baseTag)) for (const el of document.querySelectorAll(baseTag)) add(el);
  if (textBearing) for (const el of document.querySelectorAll(TEXT_TAGS)) if (hasOwnText(el)) add(el);

  // Over the cap, keep the elements that share the most cheap evidence with the baseline.
  let chosen = found;
  if (found.length > maxCandidates) {
    const words = new Set(baseText.toLowerCase().split(/\W+/).filter((word) => word.length > 1));
    const classes = new Set(baseline.classes || []);
    const quick = (el) => {
      let score = el.localName === baseTag ? 3 : 0;
      if (baseline.id && el.id === baseline.id) score += 5;
      if (baseline.name && el.getAttribute("name") === baseline.name) score += 4;
      if (baseline.role && lib.roleOf(el) === baseline.role) score += 1;
      for (const name of el.classList) if (classes.has(name)) { score += 1; break; }
      if (words.size) {
        const text = norm(el.textContent).toLowerCase().slice(0, 200);
        for (const word of words) if (text.includes(word)) score += 1;
      }
      return score;
    };
    // Ties (a "Delete" in every row) go to the elements nearest to where the target was.
    const distance = (el) => {
      const rect = el.getBoundingClientRect();
      return Math.hypot(rect.x - (baseline.x || 0), rect.y - (baseline.y || 0));
    };
    const ranked = found.map((el, index) => ({el: el, index: index, score: quick(el), distance: distance(el)}));
    ranked.sort((a, b) => b.score - a.score || a.distance - b.distance);
    chosen = ranked.slice(0, maxCandidates).sort((a, b) => a.index - b.index).map((entry) => entry.el);
  }

  function unique(selector, el) {
    try {
      const matches = document.querySelectorAll(selector);
      return matches.length === 1 && matches[0] === el;
    } catch (error) {
      return false;
    }
  }

  function selectorOf(el) {
    if (el.id) {
      const byId = "#" + CSS.escape(el.id);
      if (unique(byId, el)) return byId;
    }
    for (const attr of TEST_ID_ATTRIBUTES) {
      if (!el.hasAttribute(attr)) continue;
      const byTestId = `[${attr}="${CSS.escape(el.getAttribute(attr))}"]`;
      if (unique(byTestId, el)) return byTestId;
    }
    if (el.getAttribute("name")) {
      const byName = `${el.localName}[name="${CSS.escape(el.getAttribute("name"))}"]`;
      if (unique(byName, el)) return byName;
    }
    // A short path of nth-of-type steps, anchored on the nearest ancestor with a unique id.
    const parts = [];
    for (let node = el; node && node.nodeType === Node.ELEMENT_NODE; node = node.parentElement) {
      if (node !== el && node.id && unique("#" + CSS.escape(node.id), node)) {
        parts.unshift("#" + CSS.escape(node.id));
      } else {
        const same = node.parentElement ?
          Array.from(node.parentElement.children).filter((child) => child.localName === node.localName) : [node];
        parts.unshift(same.length > 1 ? `${node.localName}:nth-of-type(${same.indexOf(node) + 1})` : node.localName);
      }
      const path = parts.join(" > ");
      if (unique(path, el)) return path;
    }
    return null;
  }

  const indexOf = new Map(chosen.map((el, index) => [el, index]));
  const candidates = [];
  for (const el of chosen) {
    const selector = selectorOf(el);
    if (!selector) continue;
    let parent = -1;
    for (let node = el.parentElement; node; node = node.parentElement) {
      if (indexOf.has(node)) { parent = indexOf.get(node); break; }
    }
    candidates.push({selector: selector, fingerprint: lib.fingerprint(el), visible: lib.isVisible(el),
      enabled: lib.isEnabled(el), index: indexOf.get(el), parent: parent});
  }
  return {candidates: candidates, total: found.length, url: location.href};
}
