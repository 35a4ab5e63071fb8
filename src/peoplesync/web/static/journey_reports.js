"use strict";
// The Reports activity's and the splits' configuration page, shown by Journey Builder.
(function () {
  const data = JSON.parse(document.getElementById("activity-data").textContent);
  const form = document.getElementById("activity");
  const statusLine = document.getElementById("status");
  const { send, on } = window.journeyBridge;
  const KEPT = ["contactKey", "journeyVersion", "definitionId"];
  let activity = null;
  let saved = {};

  function say(text) { statusLine.textContent = text; }

  function fieldError(name, text) {
    const slot = form.querySelector('[data-for="' + name + '"]');
    if (slot) { slot.textContent = text || ""; }
  }

  function messageBinding(key) { return "{{Interaction." + key + ".messageId}}"; }

  function fill() {
    saved = {};
    ((activity.arguments && activity.arguments.execute && activity.arguments.execute.inArguments) || [])
      .forEach((pair) => Object.assign(saved, pair));
    if (form.elements.report && saved.report) { form.elements.report.value = saved.report; }
    if (form.elements.url && saved.url) { form.elements.url.value = saved.url; }
    if (saved.messageId) { form.elements.messageActivity.value = saved.messageId; }
  }

  function listActivities(interaction) {
    const select = form.elements.messageActivity;
    select.length = 1;
    ((interaction && interaction.activities) || [])
      .filter((each) => String(each.type || "").toUpperCase() === "REST" && each.key !== (activity && activity.key))
      .forEach((each) => {
        const option = document.createElement("option");
        option.value = messageBinding(each.key);
        option.textContent = (each.name || each.key) + " (" + each.key + ")";
        select.append(option);
      });
    if (saved.messageId) { select.value = saved.messageId; }
  }

  function save(event) {
    if (event) { event.preventDefault(); }
    if (!activity) { say("Journey Builder has not sent the activity yet."); return; }
    const problems = {};
    const message = form.elements.messageActivity.value;
    if (!message) { problems.messageActivity = "Choose the message activity to report on."; }
    const url = form.elements.url ? form.elements.url.value.trim() : "";
    if (url && !/^https?:\/\/\S+$/.test(url)) { problems.url = "Enter a whole address, starting with https://."; }
    ["messageActivity", "url"].forEach((name) => fieldError(name, problems[name]));
    if (Object.keys(problems).length) { say("Fix the fields marked below."); return; }
    const kept = ((activity.arguments && activity.arguments.execute &&
      activity.arguments.execute.inArguments) || []).filter((pair) => KEPT.some((key) => key in pair));
    const args = [...kept, { messageId: message }];
    const report = form.elements.report ? form.elements.report.value
      : (data.kind === "click-split" ? "clicks" : "delivery");
    args.push({ report });
    if (url) { args.push({ url }); }
    activity.arguments = activity.arguments || {};
    activity.arguments.execute = activity.arguments.execute || {};
    activity.arguments.execute.inArguments = args;
    activity.metaData = activity.metaData || {};
    activity.metaData.isConfigured = true;
    send("updateActivity", activity);
    say("Saved.");
  }

  on("initActivity", (given) => { activity = given || {}; fill(); say("Editing the activity."); send("requestInteraction"); });
  on("requestedInteraction", listActivities);
  on("clickedNext", save);
  form.addEventListener("submit", save);
  send("ready");
}());
