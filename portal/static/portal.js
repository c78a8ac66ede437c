// LianZheng portal: reload the page when the session changes (the wallet fetched the
// request, answered it, or the request expired). Served by the portal; no other script.
// An expired page keeps listening: a wallet that answers late is refused, and the page
// then says why (request_expired).
(function () {
  var el = document.getElementById("session");
  if (!el || (el.dataset.state !== "pending" && el.dataset.state !== "expired")) return;
  var version = el.dataset.version, state = el.dataset.state;
  function poll() {
    fetch(el.dataset.status, { cache: "no-store" }).then(function (r) { return r.json(); }).then(function (s) {
      if (String(s.version) !== version || s.state !== state) { location.reload(); return; }
      setTimeout(poll, 1000);
    }).catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 1000);
})();
