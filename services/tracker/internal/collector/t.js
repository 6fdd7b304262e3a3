/* leadstream snippet: reports page views and exposes leadstream.track and
   leadstream.identify. Configure with data-key on the script tag. */
(function (w, d) {
  "use strict";
  var script = d.currentScript;
  var queued = Array.isArray(w.leadstream) ? w.leadstream : [];
  if (!script || (w.leadstream && w.leadstream.loaded)) return;

  var key = script.getAttribute("data-key") || "";
  var endpoint = new URL("/v1/events?k=" + encodeURIComponent(key), script.src).href;
  var idName = "ls_aid";
  var yearSeconds = 31536000;

  function randomId() {
    var bytes = new Uint8Array(16);
    w.crypto.getRandomValues(bytes);
    var out = "";
    for (var i = 0; i < bytes.length; i++) out += (bytes[i] + 256).toString(16).slice(1);
    return out;
  }

  function readCookie(name) {
    var parts = d.cookie ? d.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf("=");
      if (parts[i].slice(0, eq) === name) return decodeURIComponent(parts[i].slice(eq + 1));
    }
    return "";
  }

  function store(id) {
    var secure = w.location.protocol === "https:" ? "; secure" : "";
    d.cookie = idName + "=" + id + "; path=/; max-age=" + yearSeconds + "; samesite=lax" + secure;
    try { w.localStorage.setItem(idName, id); } catch (e) { /* storage may be blocked */ }
  }

  function anonymousId() {
    var id = readCookie(idName);
    if (!id) {
      try { id = w.localStorage.getItem(idName) || ""; } catch (e) { id = ""; }
    }
    if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(id)) id = randomId();
    store(id);
    return id;
  }

  var aid = anonymousId();

  function flat(obj) {
    var out = {};
    for (var k in obj) {
      if (!Object.prototype.hasOwnProperty.call(obj, k)) continue;
      var v = obj[k];
      if (v === null || v === undefined) continue;
      out[k] = typeof v === "object" ? JSON.stringify(v) : String(v);
    }
    return out;
  }

  function send(ev) {
    ev.id = randomId();
    ev.anonymous_id = aid;
    ev.timestamp = new Date().toISOString();
    ev.url = ev.url || w.location.href;
    var body = JSON.stringify({ write_key: key, source: "snippet", events: [ev] });
    // text/plain keeps the request simple, so browsers send it without a
    // preflight, and sendBeacon survives the page being closed.
    var blob = new Blob([body], { type: "text/plain" });
    if (w.navigator.sendBeacon && w.navigator.sendBeacon(endpoint, blob)) return;
    if (w.fetch) {
      w.fetch(endpoint, { method: "POST", body: body, keepalive: true, mode: "cors",
        credentials: "omit", headers: { "Content-Type": "text/plain" } })["catch"](function () {});
    }
  }

  function utm() {
    var props = {};
    var params = new URLSearchParams(w.location.search);
    params.forEach(function (v, k) { if (k.indexOf("utm_") === 0) props[k] = v; });
    if (d.title) props.title = d.title.slice(0, 1024);
    return props;
  }

  var api = {
    loaded: true,
    track: function (type, props) {
      send({ type: String(type), properties: flat(props || {}) });
    },
    identify: function (leadId, traits) {
      send({ type: "identify", lead_id: String(leadId), traits: flat(traits || {}) });
    },
    anonymousId: function () { return aid; },
    // push runs a call queued as ["track", type, props], so pages can
    // queue calls the same way before and after the snippet loaded.
    push: function (call) {
      if (call && call[0] !== "push" && typeof api[call[0]] === "function") {
        api[call[0]].apply(api, call.slice(1));
      }
    }
  };
  w.leadstream = api;

  send({ type: "page_view", referrer: d.referrer, properties: utm() });
  for (var i = 0; i < queued.length; i++) api.push(queued[i]);
})(window, document);
