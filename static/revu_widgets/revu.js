/* revu-widgets: live refresh of an offer page, and a Copy button for claim details.
   Progressive enhancement only: every page is complete without this file. Data from the
   server is only ever written with textContent or attributes, never parsed as HTML. */
(function () {
  "use strict";

  var MAX_DELAY = 600000;

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (match, key) {
      return key in values ? String(values[key]) : match;
    });
  }

  function pick(obj, path) {
    return path.split(".").reduce(function (o, key) {
      return o == null ? undefined : o[key];
    }, obj);
  }

  var CHANGED_MS = 6000;

  // What changed since the last look stays highlighted for a few seconds (revu.css animates it
  // only when the reader has not asked for reduced motion). The claim box is left alone: its
  // text follows the offer but is not something to read at a glance.
  function markChanged(el) {
    if (el.hasAttribute("data-revu-copy")) return;
    var target = el.closest("li, p, [data-revu-time]") || el;
    target.classList.remove("revu-changed");
    void target.offsetWidth;  // restart the highlight when it changes again
    target.classList.add("revu-changed");
    clearTimeout(target.revuChangedTimer);
    target.revuChangedTimer = setTimeout(function () { target.classList.remove("revu-changed"); }, CHANGED_MS);
  }

  function setText(el, value) {
    if ((typeof value === "string" || typeof value === "number") && el.textContent !== String(value)) {
      el.textContent = value;
      markChanged(el);
    }
  }

  function setHidden(el, hidden) {
    if (el.hidden === hidden) return;
    el.hidden = hidden;
    if (!hidden) markChanged(el);
  }

  function setAttr(el, name, value) {
    if (value != null && el.getAttribute(name) !== String(value)) el.setAttribute(name, value);
  }

  // Elements of the offer itself, not the same-named ones inside a step.
  function own(root, selector) {
    return Array.prototype.filter.call(root.querySelectorAll(selector), function (el) {
      return !el.closest("[data-revu-step]");
    });
  }

  function announce(root, text) {
    var region = root && root.querySelector("[data-revu-announce]");
    if (!region || !text) return;
    region.textContent = "";
    // A fresh text node after a tick makes screen readers announce a repeated message too.
    setTimeout(function () { region.textContent = text; }, 50);
  }

  function updateFields(data, elements) {
    elements.forEach(function (el) {
      setText(el, pick(data, el.getAttribute("data-revu-field")));
    });
  }

  function updateSteps(root, steps, template, messages) {
    (steps || []).forEach(function (step, i) {
      var item = root.querySelector('[data-revu-step="' + i + '"]');
      if (!item) return;
      if (step.status && step.status !== item.getAttribute("data-revu-state")) {
        messages.push(fill(template, { name: step.name, status: step.status_label }));
      }
      setAttr(item, "data-revu-state", step.status);
      item.querySelectorAll("[data-revu-state]").forEach(function (el) {
        setAttr(el, "data-revu-state", step.status);
      });
      updateFields(step, Array.prototype.slice.call(item.querySelectorAll("[data-revu-field]")));
      item.querySelectorAll("[data-revu-time]").forEach(function (row) {
        // "completed_at" is the ISO time, "completed_text" its words.
        var field = row.getAttribute("data-revu-time");
        var iso = step[field];
        var time = row.querySelector("time");
        if (!time || !iso) return;
        setAttr(time, "datetime", iso);
        setText(time, step[field.replace(/_at$/, "_text")]);
        setHidden(row, false);
      });
    });
  }

  // Pending and lost rows are rendered hidden while zero, every row while the member's reward
  // is unknown (no amount rather than a wrong zero).
  function updateRewardRows(root, rewards) {
    own(root, "[data-revu-reward]").forEach(function (row) {
      var kind = row.getAttribute("data-revu-reward");
      var reward = rewards && rewards[kind];
      if (!reward) return;
      setText(row.querySelector(".revu-reward__value"), reward.text);
      setHidden(row, reward.amount == null || (!reward.amount && kind !== "earned" && kind !== "possible"));
    });
  }

  function updateExpectedDate(root, offer) {
    own(root, "[data-revu-field=expected_credit_text]").forEach(function (time) {
      setAttr(time, "datetime", offer.expected_credit_at || "");
    });
  }

  // "Updated 14:05 CET · live": when the page last heard from the server, in the reader's own
  // clock, with the browser's zone named (the page's other times are in the site's zone),
  // after every successful check, changed or not.
  function markLive(root) {
    var status = root.querySelector("[data-revu-updated]");
    if (!status) return;
    var now = new Date();
    var time;
    try {
      time = now.toLocaleTimeString(document.documentElement.lang || undefined, { hour: "2-digit", minute: "2-digit", timeZoneName: "short" });
    } catch (e) {
      time = now.toTimeString().slice(0, 5);
    }
    status.textContent = fill(root.getAttribute("data-revu-msg-updated") || "%(time)s", { time: time });
    status.setAttribute("title", now.toString());
    status.hidden = false;
  }

  function update(root, offer) {
    var messages = [];
    if (offer.state && offer.state !== root.getAttribute("data-revu-state")) {
      messages.push(fill(root.getAttribute("data-revu-msg-offer") || "%(status)s", { status: offer.state_label }));
    }
    setAttr(root, "data-revu-state", offer.state);
    own(root, "[data-revu-state]").forEach(function (el) {
      setAttr(el, "data-revu-state", offer.state);
    });
    updateFields(offer, own(root, "[data-revu-field]"));
    own(root, "[role=progressbar]").forEach(function (bar) {
      var native = bar.querySelector("progress");
      setAttr(bar, "aria-valuenow", offer.progress_value);
      setAttr(bar, "aria-valuemax", offer.progress_max);
      setAttr(bar, "aria-valuetext", offer.progress_text);
      if (native && offer.progress_max != null) {
        native.max = offer.progress_max;
        native.value = offer.progress_value;
      }
    });
    own(root, "[data-revu-show]").forEach(function (el) {
      setHidden(el, !pick(offer, el.getAttribute("data-revu-show")));
    });
    updateRewardRows(root, offer.rewards);
    updateExpectedDate(root, offer);
    updateSteps(root, offer.steps, root.getAttribute("data-revu-msg-step") || "%(name)s: %(status)s", messages);
    if (messages.length) announce(root, messages.join(" "));
  }

  // ---- Transport: when and how an open offer page asks the server again. ----
  // A cheap version check (data-revu-version, every data-revu-check seconds) notices a postback
  // within a second or two without touching RevU; the offer itself is fetched only when the
  // version moved, or every data-revu-interval seconds as before, with If-None-Match so an
  // unchanged offer costs a 304. Without a version URL, only the interval poll runs.

  function getJson(url, etag) {
    var headers = { Accept: "application/json" };
    if (etag) headers["If-None-Match"] = etag;
    return fetch(url, { headers: headers, credentials: "same-origin", cache: "no-store" });
  }

  function failure(response) {
    var error = new Error("HTTP " + response.status);
    error.wait = parseInt(response.headers.get("Retry-After"), 10) * 1000;
    // Gone, or no longer signed in: asking again cannot help.
    error.final = response.status === 404 || response.status === 401 || response.status === 403;
    return error;
  }

  function offerFetcher(root, url) {
    var etag = null;
    return function () {
      return getJson(url, etag).then(function (response) {
        if (response.status === 304) return;
        if (!response.ok) throw failure(response);
        etag = response.headers.get("ETag");
        return response.json().then(function (data) {
          update(root, data && data.offer ? data.offer : data);
        });
      });
    };
  }

  function versionChecker(url, stamp) {
    var seen = stamp || null;
    // Resolves true when the member's data may have changed since the last check.
    return function () {
      return getJson(url, null).then(function (response) {
        if (!response.ok) throw failure(response);
        return response.json().then(function (data) {
          var moved = !!(data && data.version && data.version !== seen);
          if (data && data.version) seen = data.version;
          return moved;
        });
      });
    };
  }

  function live(root) {
    var seconds = parseInt(root.getAttribute("data-revu-interval"), 10);
    if (!(seconds > 0)) return;
    var fetchOffer = offerFetcher(root, root.getAttribute("data-revu-live"));
    var versionUrl = root.getAttribute("data-revu-version");
    var checkMs = parseFloat(root.getAttribute("data-revu-check")) * 1000;
    var checkVersion = versionUrl && checkMs > 0
      ? versionChecker(versionUrl, root.getAttribute("data-revu-version-stamp")) : null;
    var full = Math.max(2, seconds) * 1000;
    var tick = checkVersion ? Math.max(250, Math.min(checkMs, full)) : full;
    var delay = tick;
    var lastFull = Date.now();
    var timer = 0;
    var busy = false;
    var stopped = false;

    function schedule(ms) {
      clearTimeout(timer);
      if (!stopped && !document.hidden) timer = setTimeout(poll, ms);
    }

    function step() {
      if (!checkVersion || Date.now() - lastFull >= full) {
        lastFull = Date.now();
        return fetchOffer();
      }
      return checkVersion().then(function (moved) {
        if (moved) return fetchOffer();
      }, function (error) {
        // A server without the version route: keep to the interval poll alone.
        if (error && error.final) checkVersion = null;
        else throw error;
      });
    }

    function poll() {
      if (busy || stopped) return;
      root.setAttribute("aria-busy", busy = true);
      step()
        .then(function () {
          delay = checkVersion ? tick : full;
          markLive(root);
        })
        .catch(function (error) {
          if (error && error.final) stopped = true;
          delay = Math.min(Math.max(delay * 2, (error && error.wait) || 0), MAX_DELAY);
        })
        .then(function () {
          schedule(delay);
          root.setAttribute("aria-busy", busy = false);
        });
    }

    document.addEventListener("visibilitychange", function () {
      if (document.hidden) clearTimeout(timer);
      else schedule(delay > Math.max(tick, full) ? delay : 0);  // keep a backoff after errors
    });
    schedule(delay);
  }

  function copyButton(box) {
    var holder = box.closest("[data-revu-msg-copy]");
    var label = holder ? holder.getAttribute("data-revu-msg-copy") : "Copy";
    var done = holder ? holder.getAttribute("data-revu-msg-copied") : "Copied";
    var button = document.createElement("button");
    button.type = "button";
    button.className = "revu-copy";
    button.textContent = label;
    function copied() {
      button.textContent = done;
      announce(holder, done);
      setTimeout(function () { button.textContent = label; }, 2500);
    }
    function fallback() {
      if (box.select) box.select();
      try {
        if (document.execCommand("copy")) copied();
      } catch (e) { /* the text stays selected for the user to copy */ }
    }
    button.addEventListener("click", function () {
      var text = box.value !== undefined ? box.value : box.textContent;
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(copied, fallback);
      } else {
        fallback();
      }
    });
    box.insertAdjacentElement("afterend", button);
  }

  // A tab, page or search link lands on the list's heading (#revu-offers); move focus there
  // too, so the next Tab reaches the first offer instead of starting over at the page's top.
  function focusListTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var target = id && document.getElementById(id);
    if (target && target.classList.contains("revu-list-title")) target.focus();
  }

  function start() {
    focusListTarget();
    document.querySelectorAll("[data-revu-copy]").forEach(copyButton);
    document.querySelectorAll("[data-revu-live]").forEach(live);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
