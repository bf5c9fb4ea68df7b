/* Dialogs loaded by htmx: opened as modal when they arrive, removed when closed.
   A dialog fragment is swapped into a slot; a form in it posts back into the same slot,
   so an answer with errors replaces the dialog and opens it again, focused on the first error. */
(function () {
  "use strict";

  function open(dialog) {
    if (!dialog.open) dialog.showModal();
    var invalid = dialog.querySelector("[aria-invalid=true], .invalid input, .invalid select, .invalid textarea");
    if (invalid) invalid.focus();
    dialog.addEventListener("close", function () { dialog.remove(); });
  }

  htmx.onLoad(function (element) {
    var dialogs = element.matches && element.matches("dialog") ? [element]
      : Array.prototype.slice.call(element.querySelectorAll ? element.querySelectorAll("dialog") : []);
    dialogs.forEach(open);
  });

  document.addEventListener("click", function (event) {
    var closer = event.target.closest("[data-close-dialog]");
    if (closer) closer.closest("dialog").close();
  });
})();
