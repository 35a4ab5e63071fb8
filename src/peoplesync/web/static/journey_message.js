"use strict";
// The Message activity's configuration page, shown by Journey Builder in an iframe.
(function () {
  const data = JSON.parse(document.getElementById("activity-data").textContent);
  const form = document.getElementById("activity");
  const statusLine = document.getElementById("status");
  const KEPT = ["contactKey", "journeyVersion", "definitionId"];
  let activity = null;
  let schema = [];
  let chosenPhones = [];

  const { send, on } = window.journeyBridge;

  function say(text) { statusLine.textContent = text; }

  function binding(key) { return "{{" + key + "}}"; }

  function fieldError(name, text) {
    const slot = form.querySelector('[data-for="' + name + '"]');
    if (slot) { slot.textContent = text || ""; }
  }

  function renderSchema() {
    const phones = schema.filter((field) => String(field.type).toLowerCase() === "phone");
    const box = document.getElementById("phone-fields");
    box.textContent = phones.length ? "" : "No Phone fields in the entry data yet.";
    phones.forEach((field) => {
      const label = document.createElement("label");
      label.className = "check";
      const input = document.createElement("input");
      input.type = "checkbox";
      input.name = "phone";
      input.value = binding(field.key);
      input.checked = chosenPhones.includes(input.value);
      label.append(input, " " + (field.name || field.key));
      box.append(label);
    });
    const merge = document.getElementById("merge-field");
    merge.length = 1;
    schema.forEach((field) => {
      const option = document.createElement("option");
      option.value = binding(field.key);
      option.textContent = field.name || field.key;
      merge.append(option);
    });
  }

  function addCallbackRow(name, value) {
    const row = document.createElement("div");
    row.className = "form-grid callback-row";
    row.innerHTML = '<label>Field name <input name="callbackName" maxlength="100"></label>' +
      '<label>Field value <input name="callbackValue" maxlength="4000"></label>';
    row.querySelector('[name="callbackName"]').value = name || "";
    row.querySelector('[name="callbackValue"]').value = value || "";
    document.getElementById("callback-rows").append(row);
  }

  function fill(saved) {
    const args = {};
    chosenPhones = [];
    ((saved.arguments && saved.arguments.execute && saved.arguments.execute.inArguments) || [])
      .forEach((pair) => Object.entries(pair).forEach(([key, value]) => {
        if (key === "phone") { chosenPhones.push(value); } else if (!(key in args)) { args[key] = value; }
      }));
    Array.from(form.elements).forEach((element) => {
      if (!element.name || !(element.name in args)) { return; }
      if (element.type === "checkbox") {
        element.checked = args[element.name] === true || args[element.name] === "true";
      } else {
        element.value = args[element.name];
      }
    });
    form.elements.useCustomExtension.checked = Boolean(args.customDataExtension);
    const callback = args.callbackData && typeof args.callbackData === "object" ? args.callbackData : {};
    Object.entries(callback).forEach(([name, value]) => addCallbackRow(name, value));
    renderSchema();
  }

  function collect() {
    const args = [];
    const kept = ((activity.arguments && activity.arguments.execute &&
      activity.arguments.execute.inArguments) || []).filter((pair) => KEPT.some((key) => key in pair));
    args.push(...kept);
    const scalar = ["channel", "account", "from", "activityName", "text", "customDomain",
      "speedLimitAmount", "speedLimitUnit"];
    scalar.forEach((name) => {
      const value = form.elements[name].value.trim();
      if (value !== "" && !(name === "speedLimitUnit" && !form.elements.speedLimitAmount.value)) {
        args.push({ [name]: value });
      }
    });
    if (form.elements.useCustomExtension.checked) {
      ["customDataExtension", "customKeyField", "customPhoneFields"].forEach((name) => {
        const value = form.elements[name].value.trim();
        if (value !== "") { args.push({ [name]: value }); }
      });
    }
    ["shortenUrl", "trackClicks", "removeHttps", "triggerEventOnResponse"].forEach((name) => {
      args.push({ [name]: form.elements[name].checked });
    });
    Array.from(form.querySelectorAll('input[name="phone"]:checked'))
      .forEach((input) => args.push({ phone: input.value }));
    const callback = {};
    form.querySelectorAll(".callback-row").forEach((row) => {
      const name = row.querySelector('[name="callbackName"]').value.trim();
      if (name) { callback[name] = row.querySelector('[name="callbackValue"]').value; }
    });
    if (Object.keys(callback).length) { args.push({ callbackData: callback }); }
    return { args, callback };
  }

  function problems(collected) {
    const found = {};
    const channel = form.elements.channel.value;
    const templated = ["whatsapp", "kakao-alim", "zalo"].includes(channel);
    if (!templated && !form.elements.text.value.trim()) { found.text = "Write the message text."; }
    const custom = form.elements.useCustomExtension.checked;
    if (!custom && !form.querySelector('input[name="phone"]:checked')) {
      found.phone = "Choose at least one Phone field of the entry data.";
    }
    if (custom && !(form.elements.customDataExtension.value.trim() &&
        form.elements.customPhoneFields.value.trim())) {
      found.customDataExtension = "Give the data extension's external key and its phone fields.";
    }
    const amount = form.elements.speedLimitAmount.value;
    if (amount && !(Number(amount) >= 1 && Number(amount) <= 100000)) {
      found.speedLimitAmount = "A speed limit is 1 to 100,000 messages.";
    }
    const reserved = data.reserved_callback_keys.filter((key) => key in collected.callback);
    if (reserved.length) { found.callbackData = reserved[0] + " is written by peoplesync itself: rename the field."; }
    if (JSON.stringify(collected.callback).length > data.callback_limit) {
      found.callbackData = "Callback data is limited to " + data.callback_limit + " characters.";
    }
    return found;
  }

  function save(event) {
    if (event) { event.preventDefault(); }
    if (!activity) { say("Journey Builder has not sent the activity yet."); return; }
    const collected = collect();
    const found = problems(collected);
    ["text", "phone", "speedLimitAmount", "callbackData", "customDataExtension"]
      .forEach((name) => fieldError(name, found[name]));
    if (Object.keys(found).length) {
      say("Fix the fields marked below.");
      return;
    }
    activity.arguments = activity.arguments || {};
    activity.arguments.execute = activity.arguments.execute || {};
    activity.arguments.execute.inArguments = collected.args;
    activity.metaData = activity.metaData || {};
    activity.metaData.isConfigured = true;
    send("updateActivity", activity);
    say("Saved.");
  }

  on("initActivity", (saved) => { activity = saved || {}; fill(activity); say("Editing the activity."); });
  on("requestedSchema", (answer) => { schema = (answer && answer.schema) || []; renderSchema(); });
  on("clickedNext", save);
  form.addEventListener("submit", save);
  document.getElementById("add-callback").addEventListener("click", () => addCallbackRow());
  document.getElementById("merge-field").addEventListener("change", (event) => {
    const text = form.elements.text;
    const at = text.selectionStart || text.value.length;
    text.value = text.value.slice(0, at) + event.target.value + text.value.slice(at);
    event.target.value = "";
  });
  send("ready");
  send("requestSchema");
}());
