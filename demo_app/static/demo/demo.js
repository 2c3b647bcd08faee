// PointPanda: "Simulate progress" without leaving the page, so the kit's live refresh can be
// watched doing its job. Without JavaScript the form posts and comes back to the same page.
(function () {
  "use strict";
  var form = document.querySelector("form[data-demo-advance]");
  var status = document.querySelector("[data-demo-status]");
  if (!form || !status || !window.fetch || !window.FormData) {
    return;
  }
  function say(text, kind) {
    var p = document.createElement("p");
    p.className = "flash flash-" + kind;
    p.textContent = text;
    status.replaceChildren(p);
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var button = form.querySelector("button");
    if (button) { button.disabled = true; }
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) { throw new Error(body && body.message ? body.message : "failed"); }
        var live = document.querySelector("[data-revu-live]");
        say(body.message + (live ? " Watch this page update." : " Reload to see it."), "success");
      });
    }).catch(function () {
      say("Could not simulate progress just now. Try again.", "error");
    }).finally(function () {
      if (button) { button.disabled = false; }
    });
  });
})();
