/* Argus editors: the test step editor and reorderable lists (a suite's tests).

   Step editor: a form [data-step-editor] holds the whole steps document as JSON in a textarea
   [data-definition-input]. Without JavaScript people edit that JSON. With it, this script shows a
   list of step cards (action, locators, the fields the action needs, move up/down, remove) that
   writes the textarea on every change, and keeps the JSON as a "Raw JSON" tab. Fields the cards
   don't show (fingerprints, timeouts, ...) are kept as they are.

   Reorderable lists: [data-reorder-list] items [data-reorder-item] get up/down buttons that move the
   item and renumber its position input [data-position], which the server sorts by. */
(function () {
  "use strict";

  // What each action needs; "target?" is an optional target. The server validates with the JSON Schema.
  var ACTION_FIELDS = {
    goto: ["url"],
    click: ["target"],
    type: ["target", "value"],
    select: ["target", "value"],
    hover: ["target"],
    press: ["key", "target?"],
    wait_for: ["target", "state"],
    assert_text: ["target", "text", "match"],
    assert_visible: ["target"],
    assert_url: ["value", "match"],
    assert_no_console_errors: [],
    extract: ["target", "name", "attribute"],
    screenshot: ["name"]
  };
  // Keys the cards manage; switching action drops the ones the new action doesn't use.
  var MANAGED = ["url", "value", "text", "key", "name", "attribute", "match", "state", "target"];
  var FIELD_LABELS = {
    url: "URL", value: "Value", text: "Expected text", key: "Key (e.g. Enter, Tab, ArrowDown)",
    name: "Name", attribute: "Attribute (optional; default: the text)", match: "Match", state: "State"
  };
  var CHOICES = {
    match: ["contains", "equals", "regex"],
    state: ["visible", "hidden", "present"]
  };
  var ACTION_LABELS = {
    goto: "Go to a URL", click: "Click", type: "Type into a field", select: "Select an option", hover: "Hover",
    press: "Press a key", wait_for: "Wait for an element", assert_text: "Check text", assert_visible: "Check visible",
    assert_url: "Check the URL", assert_no_console_errors: "Check no console errors", extract: "Store a value",
    screenshot: "Screenshot"
  };
  var counter = 0;

  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      var value = attributes[name];
      if (value === null || value === undefined || value === false) return;
      if (name === "text") node.textContent = value;
      else if (name === "className") node.className = value;
      else node.setAttribute(name, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function uid(prefix) {
    counter += 1;
    return prefix + "-" + counter;
  }

  function select(id, options, value, labels) {
    var node = el("select", {id: id});
    options.forEach(function (option) {
      node.appendChild(el("option", {value: option, selected: option === value, text: (labels && labels[option]) || option}));
    });
    if (value && options.indexOf(value) === -1) {
      node.appendChild(el("option", {value: value, selected: true, text: value}));
    }
    return node;
  }

  function fieldsOf(action) {
    return ACTION_FIELDS[action] || [];
  }

  function needsTarget(action) {
    var fields = fieldsOf(action);
    return fields.indexOf("target") !== -1 || fields.indexOf("target?") !== -1;
  }

  function StepEditor(form) {
    this.form = form;
    this.textarea = form.querySelector("[data-definition-input]");
    this.container = form.querySelector("[data-editor-form]");
    this.jsonPane = form.querySelector("[data-editor-json]");
    this.tabs = form.querySelector("[data-editor-tabs]");
    this.message = form.querySelector("[data-editor-message]");
    this.actions = JSON.parse(form.getAttribute("data-actions") || "[]");
    this.locatorKinds = JSON.parse(form.getAttribute("data-locator-kinds") || "[]");
    var serverErrors = JSON.parse(form.getAttribute("data-step-errors") || "{}");
    this.document = null;
    this.errors = [];
    this.mode = "form";
    if (!this.textarea || !this.container) return;
    this.tabs.hidden = false;
    this.tabs.addEventListener("click", this.onTab.bind(this));
    if (this.load()) {
      this.errors = this.document.steps.map(function (_step, index) { return serverErrors[String(index)] || []; });
      this.show("form");
    } else {
      this.show("json");
      this.say("The JSON can't be read, so the step list is off: fix it here first.");
    }
  }

  StepEditor.prototype.load = function () {
    var parsed;
    try {
      parsed = JSON.parse(this.textarea.value || "{}");
    } catch (error) {
      return false;
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return false;
    if (!Array.isArray(parsed.steps)) parsed.steps = [];
    if (!parsed.steps.every(function (step) { return step && typeof step === "object" && !Array.isArray(step); })) {
      return false;
    }
    if (parsed.version === undefined) parsed.version = 1;
    this.document = parsed;
    return true;
  };

  StepEditor.prototype.say = function (text) {
    this.message.textContent = text || "";
    this.message.hidden = !text;
  };

  StepEditor.prototype.onTab = function (event) {
    var button = event.target.closest("[data-editor-tab]");
    if (!button) return;
    var mode = button.getAttribute("data-editor-tab");
    if (mode === this.mode) return;
    if (mode === "form") {
      if (!this.load()) {
        this.say("The JSON can't be read: fix it before going back to the step list.");
        return;
      }
      // Edited by hand: the server's per-step messages may no longer point at the right steps.
      this.errors = this.document.steps.map(function () { return []; });
    }
    this.show(mode);
  };

  StepEditor.prototype.show = function (mode) {
    this.mode = mode;
    this.say("");
    this.container.hidden = mode !== "form";
    this.jsonPane.hidden = mode !== "json";
    Array.prototype.forEach.call(this.tabs.querySelectorAll("[data-editor-tab]"), function (tab) {
      tab.setAttribute("aria-selected", String(tab.getAttribute("data-editor-tab") === mode));
    });
    if (mode === "form") this.render();
  };

  StepEditor.prototype.save = function () {
    this.textarea.value = JSON.stringify(this.document, null, 2);
  };

  StepEditor.prototype.render = function (focusSelector) {
    var self = this;
    var steps = this.document.steps;
    this.container.textContent = "";
    var startId = uid("start-url");
    var start = el("input", {type: "text", id: startId, value: this.document.start_url || "", placeholder: "/",
                             spellcheck: "false"});
    start.addEventListener("input", function () {
      if (start.value) self.document.start_url = start.value;
      else delete self.document.start_url;
      self.save();
    });
    this.container.appendChild(el("div", {className: "field"}, [
      el("label", {"for": startId, text: "Start URL"}), start,
      el("div", {className: "help", text: "Opened before the first step, relative to the run's environment URL."})
    ]));
    var list = el("ol", {className: "step-cards"});
    steps.forEach(function (step, index) { list.appendChild(self.card(step, index)); });
    this.container.appendChild(list);
    var add = el("button", {type: "button", className: "btn btn-secondary", "data-step-add": true, text: "Add step"});
    add.addEventListener("click", function () {
      steps.push({action: "click", target: {locators: [{kind: "css", value: ""}]}});
      self.errors.push([]);
      self.save();
      self.render("[data-step-card]:last-child select");
    });
    this.container.appendChild(add);
    this.save();
    if (focusSelector) {
      var target = this.container.querySelector(focusSelector);
      if (target) target.focus();
    }
  };

  StepEditor.prototype.move = function (index, offset) {
    var steps = this.document.steps;
    var other = index + offset;
    if (other < 0 || other >= steps.length) return;
    var step = steps[index];
    steps[index] = steps[other];
    steps[other] = step;
    var errors = this.errors[index];
    this.errors[index] = this.errors[other];
    this.errors[other] = errors;
    this.save();
    this.render("[data-step-card]:nth-child(" + (other + 1) + ") [data-step-move='" + offset + "']");
  };

  StepEditor.prototype.remove = function (index) {
    this.document.steps.splice(index, 1);
    this.errors.splice(index, 1);
    this.save();
    this.render();
  };

  StepEditor.prototype.card = function (step, index) {
    var self = this;
    var steps = this.document.steps;
    var card = el("li", {className: "step-card" + ((this.errors[index] || []).length ? " has-error" : ""),
                         "data-step-card": true, "data-step-index": String(index)});
    var actionId = uid("action");
    var action = select(actionId, this.actions, step.action, ACTION_LABELS);
    action.addEventListener("change", function () {
      var fields = fieldsOf(action.value);
      step.action = action.value;
      MANAGED.forEach(function (key) {
        var wanted = fields.indexOf(key) !== -1 || (key === "target" && needsTarget(action.value));
        if (!wanted) delete step[key];
      });
      if (fields.indexOf("target") !== -1 && !step.target) step.target = {locators: [{kind: "css", value: ""}]};
      self.save();
      self.render("[data-step-card]:nth-child(" + (index + 1) + ") select");
    });

    var up = el("button", {type: "button", className: "btn btn-secondary btn-small", "data-step-move": "-1",
                           "aria-label": "Move step " + (index + 1) + " up", disabled: index === 0, text: "↑"});
    var down = el("button", {type: "button", className: "btn btn-secondary btn-small", "data-step-move": "1",
                             "aria-label": "Move step " + (index + 1) + " down", disabled: index === steps.length - 1,
                             text: "↓"});
    var remove = el("button", {type: "button", className: "btn btn-danger-outline btn-small", "data-step-remove": true,
                               "aria-label": "Remove step " + (index + 1), text: "Remove"});
    up.addEventListener("click", function () { self.move(index, -1); });
    down.addEventListener("click", function () { self.move(index, 1); });
    remove.addEventListener("click", function () { self.remove(index); });

    card.appendChild(el("div", {className: "step-card-header"}, [
      el("span", {className: "step-number", text: String(index + 1)}),
      el("label", {"for": actionId, className: "visually-hidden", text: "Action of step " + (index + 1)}),
      action,
      el("div", {className: "step-card-buttons"}, [up, down, remove])
    ]));

    (this.errors[index] || []).forEach(function (message) {
      card.appendChild(el("p", {className: "field-error", "data-step-error": true, text: message}));
    });

    var fields = fieldsOf(step.action);
    if (needsTarget(step.action)) card.appendChild(this.targetEditor(step, fields.indexOf("target?") !== -1));
    var row = el("div", {className: "form-row"});
    fields.forEach(function (key) {
      if (key === "target" || key === "target?") return;
      row.appendChild(self.valueField(step, key));
    });
    row.appendChild(this.valueField(step, "description", "Description (optional)"));
    card.appendChild(row);
    return card;
  };

  StepEditor.prototype.valueField = function (step, key, label) {
    var self = this;
    var id = uid("step-" + key);
    var input;
    if (CHOICES[key]) {
      input = select(id, [""].concat(CHOICES[key]), step[key] || "", {"": "(default)"});
      input.addEventListener("change", function () {
        if (input.value) step[key] = input.value;
        else delete step[key];
        self.save();
      });
    } else {
      input = el("input", {type: "text", id: id, value: step[key] || "", spellcheck: "false", "data-step-field": key});
      input.addEventListener("input", function () {
        if (input.value || key === "value") step[key] = input.value;
        else delete step[key];
        self.save();
      });
    }
    return el("div", {className: "field"}, [el("label", {"for": id, text: label || FIELD_LABELS[key] || key}), input]);
  };

  StepEditor.prototype.targetEditor = function (step, optional) {
    var self = this;
    var box = el("fieldset", {className: "locators"});
    box.appendChild(el("legend", {className: "small", text: optional ? "Element (optional)" : "Element: locators, tried in order"}));
    var locators = step.target ? step.target.locators || [] : [];
    locators.forEach(function (locator, index) {
      var kindId = uid("locator-kind");
      var valueId = uid("locator-value");
      var kind = select(kindId, self.locatorKinds, locator.kind);
      var value = el("input", {type: "text", id: valueId, value: locator.value || "", spellcheck: "false",
                               "data-locator-value": true});
      kind.addEventListener("change", function () {
        locator.kind = kind.value;
        if (kind.value !== "role") delete locator.name;
        self.save();
        self.render();
      });
      value.addEventListener("input", function () {
        locator.value = value.value;
        self.save();
      });
      var cells = [
        el("div", {className: "field locator-kind"}, [el("label", {"for": kindId, text: "Kind"}), kind]),
        el("div", {className: "field locator-value"}, [el("label", {"for": valueId, text: "Value"}), value])
      ];
      if (locator.kind === "role") {
        var nameId = uid("locator-name");
        var name = el("input", {type: "text", id: nameId, value: locator.name || "", placeholder: "Accessible name"});
        name.addEventListener("input", function () {
          if (name.value) locator.name = name.value;
          else delete locator.name;
          self.save();
        });
        cells.push(el("div", {className: "field locator-name"}, [el("label", {"for": nameId, text: "Name"}), name]));
      }
      var drop = el("button", {type: "button", className: "btn btn-secondary btn-small",
                               "aria-label": "Remove this locator", text: "✕"});
      drop.addEventListener("click", function () {
        locators.splice(index, 1);
        if (!locators.length) delete step.target;
        self.save();
        self.render();
      });
      cells.push(el("div", {className: "field field-submit"}, [drop]));
      box.appendChild(el("div", {className: "locator-row", "data-locator-row": true}, cells));
    });
    var add = el("button", {type: "button", className: "btn btn-secondary btn-small", "data-locator-add": true,
                            text: locators.length ? "Add a fallback locator" : "Add a locator"});
    add.addEventListener("click", function () {
      if (!step.target) step.target = {locators: []};
      if (!step.target.locators) step.target.locators = [];
      step.target.locators.push({kind: locators.length ? "text" : "css", value: ""});
      self.save();
      self.render();
    });
    box.appendChild(add);
    return box;
  };

  // Reorderable lists (a suite's tests).
  function setupReorderList(list) {
    function renumber() {
      Array.prototype.forEach.call(list.querySelectorAll("[data-reorder-item]"), function (item, index) {
        var position = item.querySelector("[data-position]");
        if (position) position.value = String(index + 1);
      });
    }
    Array.prototype.forEach.call(list.querySelectorAll("[data-reorder-item]"), function (item) {
      var label = item.getAttribute("data-reorder-label") || "item";
      var up = el("button", {type: "button", className: "btn btn-secondary btn-small", "data-reorder": "up",
                             "aria-label": "Move " + label + " up", text: "↑"});
      var down = el("button", {type: "button", className: "btn btn-secondary btn-small", "data-reorder": "down",
                               "aria-label": "Move " + label + " down", text: "↓"});
      var buttons = el("span", {className: "reorder-buttons"}, [up, down]);
      item.appendChild(buttons);
      var position = item.querySelector("[data-position]");
      if (position) position.closest(".position-field").hidden = true;
    });
    list.addEventListener("click", function (event) {
      var button = event.target.closest("[data-reorder]");
      if (!button) return;
      var item = button.closest("[data-reorder-item]");
      if (button.getAttribute("data-reorder") === "up" && item.previousElementSibling) {
        list.insertBefore(item, item.previousElementSibling);
      } else if (button.getAttribute("data-reorder") === "down" && item.nextElementSibling) {
        list.insertBefore(item.nextElementSibling, item);
      }
      renumber();
      button.focus();
    });
    renumber();
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-step-editor]"), function (form) {
      new StepEditor(form);
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-reorder-list]"), setupReorderList);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
