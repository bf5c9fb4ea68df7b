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

  /* After a write-back conflict: put the directory's value (JSON: a text or a list of
     options) into the field, so saving keeps it. */
  function useValue(button) {
    var value = JSON.parse(button.getAttribute("data-use-value"));
    var inputs = button.form.querySelectorAll("[name='" + button.getAttribute("data-for") + "']");
    Array.prototype.forEach.call(inputs, function (input) {
      if (input.type === "checkbox") input.checked = Array.isArray(value) && value.indexOf(input.value) >= 0;
      else input.value = Array.isArray(value) ? value.join(", ") : value;
    });
    if (inputs.length) inputs[0].focus();
  }

  document.addEventListener("click", function (event) {
    var closer = event.target.closest("[data-close-dialog]");
    if (closer) closer.closest("dialog").close();
    var user = event.target.closest("[data-use-value]");
    if (user) useValue(user);
  });
})();
