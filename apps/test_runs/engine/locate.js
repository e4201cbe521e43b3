// Finds the element a step targets, in one round trip. Shared by the engine and exported tests.
//
// argusLocate(locators, want, withFingerprint) tries the locators in order; `want` is "visible"
// (prefer the first locator with a visible match) or "present" (the first locator with any match).
// Answers {found, index, element, visible, enabled, count, text, fingerprint, invalid, url}.
function argusLocate(locators, want, withFingerprint) {
  const norm = (s) => (s || "").replace(/\s+/g, " ").trim();
  const TEST_ID_ATTRIBUTES = ["data-testid", "data-test-id", "data-test", "data-qa"];
  const SKIPPED_TAGS = new Set(["script", "style", "noscript", "template", "head", "title"]);
  const NAME_FROM_CONTENT = new Set(["button", "link", "heading", "option", "cell", "columnheader", "rowheader",
    "tab", "menuitem", "menuitemcheckbox", "menuitemradio", "checkbox", "radio", "switch", "treeitem", "tooltip",
    "listitem", "row", "gridcell"]);

  function textMatches(text, value, exact) {
    text = norm(text);
    return exact ? text === norm(value) : text.toLowerCase().includes(norm(value).toLowerCase());
  }

  function isVisible(el) {
    if (!el.isConnected) return false;
    if (typeof el.checkVisibility === "function" && !el.checkVisibility({visibilityProperty: true})) return false;
    const rect = el.getBoundingClientRect();
    return rect.width > 0 && rect.height > 0;
  }

  function isEnabled(el) {
    return !el.disabled && el.getAttribute("aria-disabled") !== "true" && !el.closest("fieldset[disabled]");
  }

  function implicitRole(el) {
    const tag = el.localName;
    const type = (el.getAttribute("type") || "").toLowerCase();
    switch (tag) {
      case "a": case "area": return el.hasAttribute("href") ? "link" : null;
      case "button": return "button";
      case "input":
        if (["button", "submit", "reset", "image"].includes(type)) return "button";
        if (type === "checkbox") return "checkbox";
        if (type === "radio") return "radio";
        if (type === "range") return "slider";
        if (type === "number") return "spinbutton";
        if (type === "hidden") return null;
        if (type === "search") return el.hasAttribute("list") ? "combobox" : "searchbox";
        return el.hasAttribute("list") ? "combobox" : "textbox";
      case "textarea": return "textbox";
      case "select": return el.multiple || el.size > 1 ? "listbox" : "combobox";
      case "option": return "option";
      case "h1": case "h2": case "h3": case "h4": case "h5": case "h6": return "heading";
      case "img": return el.getAttribute("alt") === "" ? "presentation" : "img";
      case "nav": return "navigation";
      case "main": return "main";
      case "aside": return "complementary";
      case "header": return el.closest("article, aside, main, nav, section") ? null : "banner";
      case "footer": return el.closest("article, aside, main, nav, section") ? null : "contentinfo";
      case "form": return "form";
      case "ul": case "ol": case "menu": return "list";
      case "li": return "listitem";
      case "table": return "table";
      case "tr": return "row";
      case "td": return "cell";
      case "th": return "columnheader";
      case "dialog": return "dialog";
      case "article": return "article";
      case "section": return el.hasAttribute("aria-label") || el.hasAttribute("aria-labelledby") ? "region" : null;
      case "fieldset": case "details": return "group";
      case "progress": return "progressbar";
      case "hr": return "separator";
      case "output": return "status";
      case "p": return "paragraph";
      default: return null;
    }
  }

  function roleOf(el) {
    const explicit = norm(el.getAttribute("role")).split(" ")[0];
    return explicit || implicitRole(el);
  }

  function accessibleName(el) {
    const labelledBy = el.getAttribute("aria-labelledby");
    if (labelledBy) {
      const text = labelledBy.split(/\s+/).map((id) => document.getElementById(id))
        .filter(Boolean).map((node) => node.textContent).join(" ");
      if (norm(text)) return norm(text);
    }
    if (norm(el.getAttribute("aria-label"))) return norm(el.getAttribute("aria-label"));
    const tag = el.localName;
    if (["input", "select", "textarea"].includes(tag)) {
      const type = (el.type || "").toLowerCase();
      if (tag === "input" && ["button", "submit", "reset"].includes(type)) {
        return norm(el.value) || (type === "submit" ? "Submit" : type === "reset" ? "Reset" : "");
      }
      const labels = el.labels ? Array.from(el.labels).map((label) => label.textContent).join(" ") : "";
      if (norm(labels)) return norm(labels);
      if (tag === "input" && type === "image" && el.alt) return norm(el.alt);
      return norm(el.getAttribute("placeholder")) || norm(el.getAttribute("title"));
    }
    if (tag === "img") return norm(el.getAttribute("alt")) || norm(el.getAttribute("title"));
    if (NAME_FROM_CONTENT.has(roleOf(el))) {
      const text = norm(el.innerText !== undefined ? el.innerText : el.textContent);
      if (text) return text;
    }
    return norm(el.getAttribute("title"));
  }

  // Elements that may carry a role implicitly; anything with a role attribute is checked too.
  const IMPLICIT_ROLE_SELECTORS = {
    button: "button, input", link: "a, area", textbox: "input, textarea", searchbox: "input",
    combobox: "input, select", listbox: "select", checkbox: "input", radio: "input", slider: "input",
    spinbutton: "input", option: "option", heading: "h1, h2, h3, h4, h5, h6", img: "img", navigation: "nav",
    main: "main", complementary: "aside", banner: "header", contentinfo: "footer", form: "form",
    list: "ul, ol, menu", listitem: "li", table: "table", row: "tr", cell: "td", columnheader: "th",
    dialog: "dialog", article: "article", region: "section", group: "fieldset, details",
    progressbar: "progress", separator: "hr", status: "output", paragraph: "p",
  };

  function inDocumentOrder(a, b) {
    return a === b ? 0 : (a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1);
  }

  function byText(value, exact) {
    const needle = norm(value).toLowerCase();
    const root = document.body || document.documentElement;
    const matching = [];
    const consider = (node) => {
      if (!exact || norm(node.textContent) === norm(value)) matching.push(node);
    };
    if (root && norm(root.textContent).toLowerCase().includes(needle)) {
      consider(root);
      // A subtree whose text does not contain the needle holds no match: skip it whole.
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT, {
        acceptNode: (node) => SKIPPED_TAGS.has(node.localName) || !norm(node.textContent).toLowerCase().includes(needle)
          ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT,
      });
      for (let node = walker.nextNode(); node; node = walker.nextNode()) consider(node);
    }
    // Input buttons show their value, which is not text content.
    for (const input of document.querySelectorAll("input[type=button i], input[type=submit i], input[type=reset i]")) {
      if (textMatches(input.value, value, exact)) matching.push(input);
    }
    matching.sort(inDocumentOrder);
    // Document order is pre-order: an element's matching descendants follow it directly, so the
    // innermost matches are those whose next match is not inside them.
    return matching.filter((el, i) => !(i + 1 < matching.length && el.contains(matching[i + 1])));
  }

  function byRole(role, name, exact) {
    const selector = IMPLICIT_ROLE_SELECTORS[role] ? IMPLICIT_ROLE_SELECTORS[role] + ", [role]" : "*";
    return Array.from(document.querySelectorAll(selector)).filter((el) => roleOf(el) === role &&
      (name === undefined || name === null || name === "" || textMatches(accessibleName(el), name, exact)));
  }

  function byTestId(value) {
    const quoted = JSON.stringify(value);
    return Array.from(document.querySelectorAll(TEST_ID_ATTRIBUTES.map((attr) => `[${attr}=${quoted}]`).join(",")));
  }

  function byLabel(value, exact) {
    const controls = [];
    for (const label of document.querySelectorAll("label")) {
      if (label.control && textMatches(label.textContent, value, exact)) controls.push(label.control);
    }
    for (const el of document.querySelectorAll("[aria-label]")) {
      if (textMatches(el.getAttribute("aria-label"), value, exact) && !controls.includes(el)) controls.push(el);
    }
    return controls;
  }

  function byXpath(expression) {
    const snapshot = document.evaluate(expression, document, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null);
    const found = [];
    for (let i = 0; i < snapshot.snapshotLength; i++) {
      const node = snapshot.snapshotItem(i);
      const el = node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement;
      if (el && !found.includes(el)) found.push(el);
    }
    return found;
  }

  function candidates(locator) {
    switch (locator.kind) {
      case "css": return Array.from(document.querySelectorAll(locator.value));
      case "xpath": return byXpath(locator.value);
      case "text": return byText(locator.value, !!locator.exact);
      case "role": return byRole(locator.value, locator.name, !!locator.exact);
      case "test_id": return byTestId(locator.value);
      case "label": return byLabel(locator.value, !!locator.exact);
      default: throw new Error("unknown locator kind " + locator.kind);
    }
  }

  function textOf(el) {
    const tag = el.localName;
    if (tag === "input" || tag === "textarea") return el.value;
    if (tag === "select") return el.selectedOptions.length ? norm(el.selectedOptions[0].textContent) : "";
    return norm(el.innerText !== undefined ? el.innerText : el.textContent);
  }

  function summary(el) {
    if (!el) return null;
    return {tag: el.localName, id: el.id || "", classes: Array.from(el.classList).slice(0, 5),
      text: norm(el.textContent).slice(0, 60)};
  }

  function domPath(el) {
    const parts = [];
    for (let node = el; node && node.nodeType === Node.ELEMENT_NODE && node !== document.documentElement;
      node = node.parentElement) {
      if (node.id) { parts.unshift(node.localName + "#" + CSS.escape(node.id)); break; }
      const sameTag = node.parentElement ?
        Array.from(node.parentElement.children).filter((child) => child.localName === node.localName) : [node];
      const position = sameTag.indexOf(node) + 1;
      parts.unshift(sameTag.length > 1 ? `${node.localName}:nth-of-type(${position})` : node.localName);
    }
    return parts.join(" > ");
  }

  // The element's identity and surroundings, recorded on every passing step; the healer scores the live
  // DOM against it. `context` (text of the nearest ancestor that says more than the element: the row, card
  // or field) and `heading` (the closest heading before it) tell apart look-alikes such as row actions.
  function fingerprint(el) {
    const rect = el.getBoundingClientRect();
    const testIds = {};
    for (const attr of TEST_ID_ATTRIBUTES) if (el.hasAttribute(attr)) testIds[attr] = el.getAttribute(attr);
    const siblings = el.parentElement ? Array.from(el.parentElement.children) : [el];
    // The data around the element, not the controls next to it (a row's "Edit" is in every row): text nodes
    // outside buttons and links, joined with spaces (textContent would glue a label to its field).
    const CONTROLS = "button, a[href], select, [role=button], [role=link], [role=menuitem], [role=tab]";
    const dataText = (node) => {
      const parts = [];
      const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
      let visited = 0;
      for (let text = walker.nextNode(); text && parts.length < 60 && visited++ < 300; text = walker.nextNode()) {
        const owner = text.parentElement;
        if (SKIPPED_TAGS.has(owner.localName) || !text.data.trim()) continue;
        const control = owner.closest(CONTROLS);
        if (!control || !node.contains(control) || control.contains(el)) parts.push(text.data);
      }
      return norm(parts.join(" "));
    };
    // `context` is the nearest such text; `context_outer` the next wider one (a notice inserted next to
    // the element changes the first, not the row or card around it).
    const ownText = norm(el.textContent);
    let context = "";
    let contextOuter = "";
    for (let node = el.parentElement, depth = 0; node && node !== document.documentElement && depth < 8;
      node = node.parentElement, depth++) {
      const text = dataText(node);
      if (!context && text.length > ownText.length) context = text;
      else if (context && text.length > context.length) { contextOuter = text; break; }
    }
    let heading = "";
    // Fingerprinting many elements in one script (the healer) queries each shared ancestor once.
    const headingsIn = fingerprint.headingsIn || (fingerprint.headingsIn = new Map());
    for (let node = el.parentElement, depth = 0; node && !heading && depth < 8; node = node.parentElement, depth++) {
      if (!headingsIn.has(node)) {
        headingsIn.set(node, node.querySelectorAll("h1, h2, h3, h4, h5, h6, legend, caption, [role=heading]"));
      }
      const headings = headingsIn.get(node);
      for (let i = headings.length - 1; i >= 0; i--) {
        const before = headings[i].compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING;
        if (headings[i] !== el && !headings[i].contains(el) && before) {
          heading = norm(headings[i].textContent);
          break;
        }
      }
    }
    const labels = el.labels ? Array.from(el.labels).map((label) => label.textContent).join(" ") : "";
    const type = (el.getAttribute("type") || "").toLowerCase();
    return {
      tag: el.localName, id: el.id || "", classes: Array.from(el.classList).slice(0, 20),
      name: el.getAttribute("name") || "", type: el.getAttribute("type") || "", role: roleOf(el) || "",
      accessible_name: accessibleName(el).slice(0, 200), aria_label: el.getAttribute("aria-label") || "",
      test_ids: testIds, text: textOf(el).slice(0, 200), placeholder: el.getAttribute("placeholder") || "",
      href: el.getAttribute("href") || "", src: el.getAttribute("src") || "", dom_path: domPath(el),
      label: norm(labels).slice(0, 200), title: el.getAttribute("title") || "", alt: el.getAttribute("alt") || "",
      value: el.localName === "input" && ["button", "submit", "reset"].includes(type) ? el.value : "",
      context: context.slice(0, 200), context_outer: contextOuter.slice(0, 300), heading: heading.slice(0, 120),
      parent: summary(el.parentElement),
      siblings: {index: siblings.indexOf(el), count: siblings.length, previous: summary(el.previousElementSibling),
        next: summary(el.nextElementSibling)},
      x: Math.round(rect.x), y: Math.round(rect.y), width: Math.round(rect.width), height: Math.round(rect.height),
    };
  }

  const invalid = [];
  let fallback = null;
  for (let index = 0; index < locators.length; index++) {
    let found;
    try {
      found = candidates(locators[index]);
    } catch (error) {
      invalid.push(`${locators[index].kind} locator “${locators[index].value}”: ${error.message}`);
      continue;
    }
    if (!found.length) continue;
    const visible = found.find(isVisible);
    const match = {index: index, element: visible || found[0], visible: !!visible, count: found.length};
    if (match.visible || want !== "visible") { fallback = match; break; }
    if (!fallback) fallback = match;
  }
  if (!fallback) return {found: false, invalid: invalid, url: location.href};
  const el = fallback.element;
  return {
    found: true, index: fallback.index, element: el, visible: fallback.visible, enabled: isEnabled(el),
    count: fallback.count, text: textOf(el), fingerprint: withFingerprint ? fingerprint(el) : null,
    invalid: invalid, url: location.href,
  };
}
