// A filter form sends itself when one of its lists marked data-autosubmit changes (the page
// also offers a button for browsers without scripts).
for (const select of document.querySelectorAll("select[data-autosubmit]")) {
  select.addEventListener("change", () => select.form.submit());
}
