// LianZheng portal: reload the page when the session changes (the wallet fetched the
// request, answered it, or the request expired). Served by the portal; no other script.
(function () {
  var el = document.getElementById("session");
  if (!el || el.dataset.state !== "pending") return;
  var version = el.dataset.version;
  function poll() {
    fetch(el.dataset.status, { cache: "no-store" }).then(function (r) { return r.json(); }).then(function (s) {
      if (String(s.version) !== version || s.state !== "pending") { location.reload(); return; }
      setTimeout(poll, 1000);
    }).catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 1000);
})();
