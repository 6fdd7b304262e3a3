// Runs the snippet in node as a browser would, twice on one cookie jar
// (two page loads), and prints every beacon it sends as a JSON line:
// {"url": ..., "body": ...}. Usage: node snippet.js t.js
"use strict";
const fs = require("fs");
const vm = require("vm");

const source = fs.readFileSync(process.argv[2], "utf8");
let cookies = "";
const beacons = [];

function page(href, before, after) {
  const storage = new Map();
  const document = {
    currentScript: { src: "https://track.example/t.js", getAttribute: () => "wk_shop" },
    referrer: "https://search.example/",
    title: "Pricing",
    get cookie() { return cookies; },
    set cookie(v) { cookies = v.split(";")[0]; },
  };
  const window = {
    location: new URL(href),
    crypto: globalThis.crypto,
    localStorage: {
      getItem: (k) => (storage.has(k) ? storage.get(k) : null),
      setItem: (k, v) => storage.set(k, String(v)),
    },
    navigator: { sendBeacon: (url, blob) => { beacons.push({ url, blob }); return true; } },
  };
  const ctx = { window, document, URL, URLSearchParams, Blob, Date, JSON, Uint8Array };
  if (before) before(window);
  vm.runInNewContext(source, ctx);
  if (after) after(window);
}

page("https://shop.example/pricing?utm_source=news&x=1",
  (w) => { w.leadstream = [["track", "download", { file: "a.pdf", pages: 12 }]]; },
  (w) => { w.leadstream.push(["identify", "crm-42", { email: "Ann@Buyer.Example", title: "CTO" }]); });
page("https://shop.example/blog/post");

(async () => {
  for (const b of beacons) {
    process.stdout.write(JSON.stringify({ url: b.url, body: await b.blob.text() }) + "\n");
  }
})();
