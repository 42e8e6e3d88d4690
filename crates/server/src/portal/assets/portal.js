// Keygate portal: copy buttons, confirmations and inline form validation. Loaded as a module from the
// portal itself (the Content-Security-Policy allows no inline script); every page works without it.

function copy(button) {
  const target = document.getElementById(button.dataset.copy);
  const status = button.parentElement.querySelector(".copied");
  const text = target ? target.textContent : "";
  const done = (message) => { if (status) status.textContent = message; };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(() => done("Copied"), () => done("Select the text and copy it"));
  } else {
    const range = document.createRange();
    range.selectNodeContents(target);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    done("Selected: press Ctrl+C or ⌘C");
  }
}

// Shows the browser's own validation message next to the field, tied to it for screen readers.
function showFieldError(input) {
  const id = `${input.id || input.name}-error`;
  let message = document.getElementById(id);
  if (input.validity.valid) {
    input.removeAttribute("aria-invalid");
    if (message) message.remove();
    return true;
  }
  if (!message) {
    message = document.createElement("p");
    message.id = id;
    message.className = "field-error";
    input.insertAdjacentElement("afterend", message);
  }
  let text = input.validationMessage;
  if (input.validity.patternMismatch && input.title) text = input.title;
  if (input.validity.patternMismatch && input.name === "account") text = "Two lowercase letters and three digits, like ab123.";
  message.textContent = text;
  input.setAttribute("aria-invalid", "true");
  const described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
  if (!described.includes(id)) input.setAttribute("aria-describedby", [...described, id].join(" "));
  return false;
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button.copy");
  if (button) copy(button);
});

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.matches("[data-validate]")) {
    const fields = [...form.querySelectorAll("input, textarea, select")].filter((f) => f.willValidate);
    const invalid = fields.filter((f) => !showFieldError(f));
    if (invalid.length) {
      event.preventDefault();
      invalid[0].focus();
      return;
    }
  }
  if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
    return;
  }
  // One submission per click: a double click must not create two keys.
  for (const b of form.querySelectorAll("button[type=submit]")) b.disabled = true;
});

document.addEventListener("input", (event) => {
  const field = event.target;
  if (field.getAttribute && field.getAttribute("aria-invalid") === "true") showFieldError(field);
});

// Back-navigation may restore a page whose buttons were disabled on submit.
window.addEventListener("pageshow", () => {
  for (const b of document.querySelectorAll("button[type=submit]:disabled")) b.disabled = false;
});
