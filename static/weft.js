// Small improvements over the plain HTML forms; everything works without this file.
// Picking photos in the composer uploads them at once, so they can be described before posting.
document.addEventListener("change", function (e) {
  var input = e.target;
  if (!(input instanceof HTMLInputElement) || !input.hasAttribute("data-autoupload")) return;
  if (!input.files || input.files.length === 0 || !input.form) return;
  var button = input.form.querySelector('button[name="action"][value="attach"]');
  if (!button) return;
  input.form.classList.add("uploading");
  if (input.form.requestSubmit) input.form.requestSubmit(button); else button.click();
});
document.documentElement.classList.add("js");
