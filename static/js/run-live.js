/* Argus live runs: the run page ([data-run-live], socket /ws/runs/<id>/) and the run list
   ([data-runs-feed], socket /ws/runs/). Both pages are complete without this file; it keeps them
   current without a reload.

   Protocol (apps/test_runs/live.py): the server sends {"type": "snapshot", "seq": H, ...} on connect,
   then {"type": "event", "event", "run_id", "seq", "data"} deltas. Deltas with seq <= H are already
   in the snapshot and are dropped; per thing (the run, a result, a step) only a delta newer than the
   last one applied counts. On a dropped connection the script reconnects with backoff and the new
   snapshot replaces the page's state. The markup built here mirrors templates/test_runs/_result.html,
   _step.html and _run_row.html. */
(function () {
  "use strict";

  var FINISHED = ["passed", "failed", "error", "cancelled"];
  var RERUNNABLE = ["failed", "error", "cancelled"];
  var SEGMENTS = ["passed", "failed", "errored", "skipped", "cancelled"];
  var LiveSocket = window.Argus.LiveSocket;  // argus.js
  var CLOSED_RUN = {4404: "This run is not available for live updates."};
  var MAX_LOG_LINES = 5000;

  function capfirst(text) {
    text = String(text || "");
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

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
      if (child !== null && child !== undefined && child !== false) {
        node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
      }
    });
    return node;
  }

  // The same text as apps.test_runs.views.format_duration.
  function formatDuration(ms) {
    if (ms === null || ms === undefined) return "";
    if (ms < 1000) return ms + " ms";
    var seconds = ms / 1000;
    if (seconds < 60) return seconds.toFixed(1) + " s";
    var minutes = Math.floor(seconds / 60);
    seconds = Math.floor(seconds) % 60;
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    if (minutes < 60) return minutes + " min " + pad(seconds) + " s";
    return Math.floor(minutes / 60) + " h " + pad(minutes % 60) + " min";
  }

  function formatTime(iso) {
    if (!iso) return null;
    var time = el("time", {datetime: iso});
    time.textContent = iso.replace("T", " ").slice(0, 19);
    return time;
  }

  function setStatusBadge(badge, status) {
    if (!badge) return;
    badge.className = badge.className.replace(/\bbadge-status-[a-z_]+/g, "").trim() + " badge-status-" + status;
    badge.textContent = capfirst(status);
  }

  function updateCounts(root, summary) {
    ["completed", "total", "passed", "failed", "errored"].forEach(function (name) {
      var node = root.querySelector("[data-count='" + name + "']");
      if (node) node.textContent = String(summary[name] || 0);
      else if (name === "errored" && summary.errored) {
        // The errors count is only in the markup once there is one.
        var counts = root.querySelector(".run-counts");
        if (counts) {
          counts.appendChild(document.createTextNode(" · "));
          counts.appendChild(el("span", {className: "count-error"}, [
            el("span", {"data-count": "errored", text: String(summary.errored)}), " errors"]));
        }
      }
    });
    var bar = root.querySelector("[data-counts-bar]");
    if (bar) {
      var offset = 0;
      SEGMENTS.forEach(function (name) {
        var rect = bar.querySelector("[data-segment='" + name + "']");
        var width = summary.total ? 100 * (summary[name] || 0) / summary.total : 0;
        if (rect) {
          rect.setAttribute("x", offset.toFixed(3));
          rect.setAttribute("width", width.toFixed(3));
        }
        offset += width;
      });
    }
  }

  // The run page.
  function RunPage(root) {
    this.root = root;
    this.artifactUrl = root.getAttribute("data-artifact-url");
    this.rerunPossible = root.getAttribute("data-rerun-possible") === "true";
    this.results = root.querySelector("[data-results]");
    this.tabs = root.querySelector("[data-device-tabs]");
    this.log = root.querySelector("[data-run-log]");
    this.selectedDevice = null;
    this.reset();
    this.readLog();
    this.setupTabs();
    this.socket = new LiveSocket(root.getAttribute("data-ws-path"), this, root.querySelector("[data-live-status]"),
                                 CLOSED_RUN);
  }

  RunPage.prototype.reset = function () {
    this.highWater = 0;
    this.seen = {};
    this.state = {run: null, results: {}, order: [], devices: []};
    this.lastLogSeq = 0;
  };

  RunPage.prototype.readLog = function () {
    var lines = this.log.querySelectorAll("[data-seq]");
    if (lines.length) this.lastLogSeq = parseInt(lines[lines.length - 1].getAttribute("data-seq"), 10) || 0;
  };

  // Per thing, apply only what is newer than what was applied.
  RunPage.prototype.isNewer = function (key, seq) {
    if (this.seen[key] !== undefined && this.seen[key] >= seq) return false;
    this.seen[key] = seq;
    return true;
  };

  RunPage.prototype.snapshot = function (message) {
    var self = this;
    this.reset();
    this.highWater = message.seq || 0;
    this.state.devices = (message.run.devices || []).slice();
    (message.results || []).forEach(function (result) {
      var steps = {};
      (result.steps || []).forEach(function (step) { steps[step.attempt + ":" + step.index] = step; });
      result.steps = steps;
      self.state.results[result.result] = result;
      self.state.order.push(result.result);
    });
    this.renderRun(message.run);
    this.renderAllResults();
    // Says the page shows this snapshot (and every delta after it): for people debugging, and for tests.
    this.root.setAttribute("data-snapshot-seq", String(this.highWater));
    this.log.textContent = "";
    this.lastLogSeq = 0;
    (message.log || []).forEach(function (line) { self.appendLog(line); });
    var truncated = this.root.querySelector("[data-log-truncated]");
    if (truncated) truncated.hidden = !message.log_truncated;
  };

  RunPage.prototype.event = function (message) {
    if ((message.seq || 0) <= this.highWater) return;
    var data = message.data || {};
    var name = message.event;
    if (name.indexOf("run.") === 0) {
      if (this.isNewer("run", message.seq)) this.renderRun(data);
    } else if (name.indexOf("test.") === 0) {
      if (!this.isNewer("result:" + data.result, message.seq)) return;
      var result = this.result(data);
      Object.keys(data).forEach(function (key) { result[key] = data[key]; });
      if (name === "test.started") {
        result.status = "running";
        result.error_type = "";
        result.error_message = "";
      }
      this.renderResult(result);
    } else if (name.indexOf("step.") === 0) {
      var key = data.result + ":" + data.attempt + ":" + data.index;
      if (!this.isNewer("step:" + key, message.seq)) return;
      var owner = this.result({result: data.result});
      owner.steps[data.attempt + ":" + data.index] = data;
      if (owner.status === "queued") owner.status = "running";
      this.renderResult(owner);
    } else if (name === "log") {
      this.appendLog(data);
    }
  };

  // The state of a result, created when a delta names one the snapshot didn't have.
  RunPage.prototype.result = function (data) {
    var result = this.state.results[data.result];
    if (!result) {
      result = {result: data.result, name: data.name || "", device: data.device || "", status: "queued",
                attempt: 0, duration_ms: null, error_type: "", error_message: "", steps: {}};
      this.state.results[data.result] = result;
      this.state.order.push(data.result);
    }
    return result;
  };

  RunPage.prototype.renderRun = function (summary) {
    var root = this.root;
    this.state.run = summary;
    setStatusBadge(root.querySelector("[data-run-status]"), summary.status);
    var progress = root.querySelector("[data-run-progress]");
    if (progress) {
      progress.max = summary.total || 1;
      progress.value = summary.completed || 0;
      progress.textContent = (summary.completed || 0) + " of " + (summary.total || 0);
    }
    updateCounts(root, summary);
    var error = root.querySelector("[data-run-error]");
    if (error) {
      error.textContent = summary.error_message || "";
      error.hidden = !summary.error_message;
    }
    [["[data-run-started]", summary.started_at], ["[data-run-finished]", summary.finished_at]].forEach(function (pair) {
      var node = root.querySelector(pair[0]);
      if (!node) return;
      node.textContent = "";
      node.appendChild(formatTime(pair[1]) || document.createTextNode("—"));
    });
    var duration = root.querySelector("[data-run-duration]");
    if (duration) duration.textContent = formatDuration(summary.duration_ms) || "—";
    var finished = FINISHED.indexOf(summary.status) !== -1;
    var cancel = root.querySelector("[data-run-cancel]");
    if (cancel) cancel.hidden = finished;
    var rerun = root.querySelector("[data-run-rerun]");
    if (rerun) rerun.hidden = !(finished && this.rerunPossible && RERUNNABLE.indexOf(summary.status) !== -1);
  };

  RunPage.prototype.deviceOrder = function () {
    var order = this.state.devices.slice();
    var results = this.state.results;
    this.state.order.forEach(function (id) {
      var device = results[id].device || "";
      if (order.indexOf(device) === -1) order.push(device);
    });
    return order;
  };

  RunPage.prototype.panel = function (device) {
    var panels = this.results.querySelectorAll("[data-device-panel]");
    for (var i = 0; i < panels.length; i += 1) {
      if (panels[i].getAttribute("data-device-panel") === device) return panels[i];
    }
    var label = device || "Results";
    var panel = el("section", {className: "card device-panel", "data-device-panel": device, "data-device-label": label}, [
      el("h2", {className: "card-title device-title", text: label}),
      el("div", {className: "result-list", "data-result-list": true})
    ]);
    var empty = this.results.querySelector("[data-no-results]");
    if (empty) empty.remove();
    this.results.appendChild(panel);
    return panel;
  };

  // After a snapshot: the results in the snapshot's order, reusing the elements already on the page so
  // that what someone has opened stays open (on a reconnect, too).
  RunPage.prototype.renderAllResults = function () {
    var self = this;
    var results = this.state.results;
    Array.prototype.forEach.call(this.results.querySelectorAll("[data-result]"), function (node) {
      if (!results[node.getAttribute("data-result")]) node.remove();
    });
    var empty = this.results.querySelector("[data-no-results]");
    if (empty && this.state.order.length) empty.remove();
    this.deviceOrder().forEach(function (device) {
      self.results.appendChild(self.panel(device));  // appending an existing panel moves it into order
    });
    this.state.order.forEach(function (id) {
      var node = self.renderResult(results[id]);
      node.parentNode.appendChild(node);
    });
    if (!this.state.order.length && !this.results.querySelector("[data-no-results]")) {
      this.results.appendChild(el("div", {className: "card empty", "data-no-results": true}, [
        el("p", {text: "No results yet."})]));
    }
    this.renderTabs();
  };

  RunPage.prototype.renderResult = function (result) {
    var list = this.panel(result.device || "").querySelector("[data-result-list]");
    var node = this.results.querySelector("[data-result='" + result.result + "']");
    var created = !node;
    if (created) {
      node = el("details", {"data-result": result.result});
      list.appendChild(node);
      this.renderTabs();
    }
    var wasStatus = node.getAttribute("data-status");
    node.className = "result result-" + result.status;
    node.setAttribute("data-status", result.status);
    // Open what needs attention: a failure, or the test that is running now.
    if (wasStatus !== result.status && ["failed", "error", "running"].indexOf(result.status) !== -1) node.open = true;
    node.textContent = "";
    node.appendChild(el("summary", {className: "result-summary"}, [
      el("span", {className: "status-icon status-" + result.status, "aria-hidden": "true"}),
      el("span", {className: "result-name", text: result.name}),
      " ",
      el("span", {className: "badge badge-status-" + result.status, "data-result-status": true,
                  text: capfirst(result.status)}),
      result.attempt ? " " : null,
      result.attempt ? el("span", {className: "badge badge-muted", "data-result-attempt": true,
                                   text: "attempt " + (result.attempt + 1)}) : null,
      " ",
      el("span", {className: "muted small", "data-result-duration": true, text: formatDuration(result.duration_ms)})
    ]));
    var body = el("div", {className: "result-body"});
    if (result.error_message) {
      body.appendChild(el("p", {className: "trace-error", "data-result-error": true}, [
        result.error_type ? el("strong", {text: result.error_type}) : null,
        result.error_type ? ": " : null,
        result.error_message
      ]));
    }
    var attempts = {};
    Object.keys(result.steps).forEach(function (key) {
      var step = result.steps[key];
      (attempts[step.attempt] = attempts[step.attempt] || []).push(step);
    });
    var numbers = Object.keys(attempts).map(Number).sort(function (a, b) { return a - b; });
    var self = this;
    numbers.forEach(function (attempt) {
      if (numbers.length > 1) body.appendChild(el("h4", {className: "attempt-heading", text: "Attempt " + (attempt + 1)}));
      var steps = el("ol", {className: "trace-steps"});
      attempts[attempt].sort(function (a, b) { return a.index - b.index; }).forEach(function (step) {
        steps.appendChild(self.stepNode(step));
      });
      body.appendChild(steps);
    });
    if (!numbers.length) {
      var waiting = result.status === "queued" ? "Waiting for a worker." :
        result.status === "running" ? "Starting…" : "No steps recorded.";
      body.appendChild(el("p", {className: "muted small", "data-no-steps": true, text: waiting}));
    }
    node.appendChild(body);
    return node;
  };

  RunPage.prototype.stepNode = function (step) {
    var title = el("div", {className: "trace-step-title"}, [
      el("span", {className: "visually-hidden", text: capfirst(step.status) + ": "}),
      el("span", {className: "step-index", text: (step.index + 1) + "."}),
      " ",
      el("span", {className: "step-description", text: step.description || step.action}),
      step.duration_ms !== null && step.duration_ms !== undefined ? " " : null,
      step.duration_ms !== null && step.duration_ms !== undefined ?
        el("span", {className: "muted small step-duration", text: formatDuration(step.duration_ms)}) : null
    ]);
    var body = el("div", {className: "trace-step-body"}, [
      title,
      step.heal ? this.healNode(step.heal) : null,
      step.resolved_locator ? el("div", {className: "muted small trace-locator"}, [
        "found by ", el("code", {text: step.resolved_locator})]) : null,
      step.page_url ? el("div", {className: "muted small url-cell trace-url", text: step.page_url}) : null,
      step.error ? el("p", {className: "trace-error", text: step.error}) : null
    ]);
    var thumb = null;
    if (step.screenshot) {
      var url = this.artifactUrl.replace("00000000-0000-0000-0000-000000000000", step.screenshot);
      thumb = el("a", {className: "thumb", href: url, "data-lightbox": true}, [
        el("img", {src: url, alt: "Screenshot after step " + (step.index + 1), loading: "lazy"})]);
    }
    return el("li", {className: "trace-step step-" + step.status, "data-step-key": step.attempt + ":" + step.index}, [
      el("span", {className: "status-icon status-" + step.status, "aria-hidden": "true"}), body, thumb]);
  };

  // Mirrors the heal line of _step.html: old → new locator, confidence, and the outlined screenshot.
  var HEAL_LABELS = {healed: "healed", refused: "heal refused", failed: "heal failed"};
  var HEAL_BADGES = {healed: "badge-success", refused: "badge-muted", failed: "badge-status-failed"};

  RunPage.prototype.healNode = function (heal) {
    var facts = " · confidence " + Number(heal.confidence || 0).toFixed(2) +
      (heal.runner_up ? " · runner-up " + Number(heal.runner_up.score).toFixed(2) : "") +
      (heal.status === "refused" && heal.reason ? " · " + heal.reason : "");
    var shot = null;
    if (heal.screenshot) {
      var url = this.artifactUrl.replace("00000000-0000-0000-0000-000000000000", heal.screenshot);
      shot = el("a", {href: url, "data-lightbox": true, text: "healed element"});
    }
    return el("div", {className: "small trace-heal", "data-step-heal": heal.status}, [
      el("span", {className: "badge " + (HEAL_BADGES[heal.status] || "badge-muted"),
        text: HEAL_LABELS[heal.status] || heal.status}),
      " ", el("code", {text: heal.original_text}),
      heal.selector ? " " : null,
      heal.selector ? el("span", {"aria-hidden": "true", text: "→"}) : null,
      heal.selector ? el("span", {className: "visually-hidden", text: "healed to"}) : null,
      heal.selector ? " " : null,
      heal.selector ? el("code", {text: "css=" + heal.selector}) : null,
      " ", el("span", {className: "muted", text: facts}),
      shot ? " · " : null, shot
    ]);
  };

  RunPage.prototype.setupTabs = function () {
    var self = this;
    this.tabs.addEventListener("click", function (event) {
      var tab = event.target.closest("[data-device-tab]");
      if (!tab) return;
      self.selectedDevice = tab.getAttribute("data-device-tab");
      self.showDevice();
    });
    this.tabs.addEventListener("keydown", function (event) {
      if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
      var tabs = Array.prototype.slice.call(self.tabs.querySelectorAll("[data-device-tab]"));
      var index = tabs.indexOf(document.activeElement);
      if (index === -1) return;
      var next = tabs[(index + (event.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
      self.selectedDevice = next.getAttribute("data-device-tab");
      self.showDevice();
      next.focus();
    });
    this.renderTabs();
  };

  // Tabs only when there is more than one device; without JavaScript every panel shows, one below the other.
  RunPage.prototype.renderTabs = function () {
    var panels = this.results.querySelectorAll("[data-device-panel]");
    this.tabs.textContent = "";
    if (panels.length < 2) {
      this.tabs.hidden = true;
      Array.prototype.forEach.call(panels, function (panel) { panel.hidden = false; });
      return;
    }
    var self = this;
    var devices = Array.prototype.map.call(panels, function (panel) { return panel.getAttribute("data-device-panel"); });
    if (devices.indexOf(this.selectedDevice) === -1) this.selectedDevice = devices[0];
    Array.prototype.forEach.call(panels, function (panel) {
      var device = panel.getAttribute("data-device-panel");
      panel.id = panel.id || "device-panel-" + (device || "results").replace(/[^a-z0-9-]/gi, "-");
      panel.setAttribute("role", "tabpanel");
      self.tabs.appendChild(el("button", {type: "button", role: "tab", className: "device-tab",
                                          "data-device-tab": device, "aria-controls": panel.id,
                                          text: panel.getAttribute("data-device-label") || device}));
    });
    this.tabs.hidden = false;
    this.showDevice();
  };

  RunPage.prototype.showDevice = function () {
    var selected = this.selectedDevice;
    Array.prototype.forEach.call(this.tabs.querySelectorAll("[data-device-tab]"), function (tab) {
      var active = tab.getAttribute("data-device-tab") === selected;
      tab.setAttribute("aria-selected", String(active));
      tab.tabIndex = active ? 0 : -1;
    });
    Array.prototype.forEach.call(this.results.querySelectorAll("[data-device-panel]"), function (panel) {
      panel.hidden = panel.getAttribute("data-device-panel") !== selected;
    });
  };

  RunPage.prototype.appendLog = function (line) {
    if (typeof line.seq === "number" && line.seq <= this.lastLogSeq) return;
    if (typeof line.seq === "number") this.lastLogSeq = line.seq;
    var log = this.log;
    var atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 24;
    log.appendChild(el("div", {className: "log-line log-" + (line.stream || "system"), "data-seq": String(line.seq),
                               text: line.text}));
    while (log.childNodes.length > MAX_LOG_LINES) log.removeChild(log.firstChild);
    if (atBottom) log.scrollTop = log.scrollHeight;
    var empty = this.root.querySelector("[data-log-empty]");
    if (empty) empty.hidden = true;
  };

  // The run list.
  function RunFeed(root) {
    this.root = root;
    this.body = root.querySelector("[data-runs-body]");
    this.rowUrl = root.getAttribute("data-row-url");
    this.firstPage = root.getAttribute("data-first-page") === "true";
    this.filters = {project: root.getAttribute("data-filter-project"), status: root.getAttribute("data-filter-status"),
                    kind: root.getAttribute("data-filter-kind")};
    this.highWater = 0;
    this.seen = {};
    this.fetching = {};
    // Runs the server said the filters exclude, with the status they had then.
    this.excluded = {};
    this.socket = new LiveSocket(root.getAttribute("data-ws-path"), this,
                                 document.querySelector("[data-live-status]"));
  }

  RunFeed.prototype.row = function (id) {
    return this.body.querySelector("[data-run-row='" + id + "']");
  };

  RunFeed.prototype.snapshot = function (message) {
    var self = this;
    this.highWater = message.seq || 0;
    this.seen = {};
    (message.runs || []).forEach(function (summary) { self.apply(summary); });
  };

  RunFeed.prototype.event = function (message) {
    if ((message.seq || 0) <= this.highWater) return;
    if (message.event.indexOf("run.") !== 0) return;
    var id = message.data.id || message.run_id;
    if (this.seen[id] !== undefined && this.seen[id] >= message.seq) return;
    this.seen[id] = message.seq;
    this.apply(message.data);
  };

  RunFeed.prototype.apply = function (summary) {
    var row = this.row(summary.id);
    if (row) {
      row.setAttribute("data-status", summary.status);
      setStatusBadge(row.querySelector("[data-run-status]"), summary.status);
      updateCounts(row, summary);
      var duration = row.querySelector("[data-run-duration]");
      if (duration) duration.textContent = formatDuration(summary.duration_ms) || "—";
    } else if (this.firstPage && this.mayMatch(summary)) {
      this.insert(summary);
    }
  };

  // What the summary tells about the list's filters (the trigger filter only the server can check).
  RunFeed.prototype.mayMatch = function (summary) {
    var filters = this.filters;
    if (filters.project && summary.project !== filters.project) return false;
    if (filters.status && summary.status !== filters.status) return false;
    if (filters.kind && summary.kind !== filters.kind) return false;
    return this.excluded[summary.id] !== summary.status;
  };

  // A run this page hasn't shown: the server renders its row, or answers 204 when the filters exclude it.
  RunFeed.prototype.insert = function (summary) {
    var self = this;
    var id = summary.id;
    if (this.fetching[id]) return;
    this.fetching[id] = true;
    var url = this.rowUrl.replace("00000000-0000-0000-0000-000000000000", id) + window.location.search;
    window.fetch(url, {credentials: "same-origin", headers: {"Accept": "text/html"}}).then(function (response) {
      if (response.status === 204) self.excluded[id] = summary.status;
      return response.status === 200 ? response.text() : "";
    }).then(function (html) {
      delete self.fetching[id];
      if (!html || self.row(id)) return;
      var holder = document.createElement("tbody");
      holder.innerHTML = html.trim();
      var row = holder.querySelector("[data-run-row]");
      if (!row) return;
      self.place(row);
      var empty = self.root.querySelector("[data-runs-empty]");
      if (empty) empty.hidden = true;
      self.root.classList.remove("is-empty");
    }, function () {
      delete self.fetching[id];
    });
  };

  // Newest first, by the queue time each row carries.
  RunFeed.prototype.place = function (row) {
    var time = row.querySelector("time");
    var created = time ? time.getAttribute("datetime") : "";
    var rows = this.body.querySelectorAll("[data-run-row]");
    for (var i = 0; i < rows.length; i += 1) {
      var other = rows[i].querySelector("time");
      if (other && new Date(other.getAttribute("datetime")) < new Date(created)) {
        this.body.insertBefore(row, rows[i]);
        return;
      }
    }
    this.body.appendChild(row);
  };

  // Screenshots open large in a dialog; without JavaScript the link opens the image.
  function setupLightbox() {
    var dialog = document.querySelector("[data-lightbox-dialog]");
    if (!dialog || typeof dialog.showModal !== "function") return;
    var image = dialog.querySelector("[data-lightbox-image]");
    document.addEventListener("click", function (event) {
      var link = event.target.closest("a[data-lightbox]");
      if (!link) return;
      event.preventDefault();
      var thumbnail = link.querySelector("img");
      image.src = link.getAttribute("href");
      image.alt = thumbnail ? thumbnail.alt : "Screenshot";
      dialog.showModal();
    });
    dialog.addEventListener("click", function (event) {
      if (event.target === dialog) dialog.close();
    });
  }

  function start() {
    if (!("WebSocket" in window)) return;
    var run = document.querySelector("[data-run-live]");
    if (run) new RunPage(run);
    var feed = document.querySelector("[data-runs-feed]");
    if (feed) new RunFeed(feed);
    setupLightbox();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
