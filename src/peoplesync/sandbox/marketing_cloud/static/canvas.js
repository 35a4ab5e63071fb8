"use strict";
// Journey Builder's side of the postMessage protocol (Postmonger): the framed activity page
// and the canvas exchange JSON strings, the event under "e", its arguments under "z1", "z2"...
(function () {
  let data = JSON.parse(document.getElementById("canvas-data").textContent);
  const frame = document.getElementById("activity-frame");
  const modal = document.getElementById("modal");
  const statusLine = document.getElementById("canvas-status");
  const errorLine = document.getElementById("canvas-error");
  let open = null; // the activity whose configuration is framed
  window.canvasEvents = []; // what the framed page said, in order (for people and tests)

  function say(text) { statusLine.textContent = text; }

  function post(event, ...args) {
    const message = { e: event };
    args.forEach((arg, index) => { message["z" + (index + 1)] = arg; });
    frame.contentWindow.postMessage(JSON.stringify(message), new URL(open.ui).origin);
  }

  function render() {
    const list = document.getElementById("activities");
    list.textContent = "";
    data.activities.forEach((each) => {
      const item = document.createElement("li");
      item.dataset.key = each.key;
      const title = document.createElement("strong");
      title.textContent = each.name + " (" + each.key + ")";
      const state = document.createElement("span");
      state.textContent = each.configured ? " configured " : " not configured ";
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = "Configure " + each.key;
      button.addEventListener("click", () => openModal(each.key));
      const execute = (each.activity.arguments && each.activity.arguments.execute) || {};
      item.append(title, state, button,
        block("Saved inArguments:", "saved", execute.inArguments || []),
        block("Endpoint answers:", "answers", each.answers));
      const whole = document.createElement("details");
      const summary = document.createElement("summary");
      summary.textContent = "The whole activity as saved";
      whole.append(summary, block("", "activity", each.activity));
      item.append(whole);
      list.append(item);
    });
    if (!data.activities.length) {
      const empty = document.createElement("li");
      empty.textContent = "No activities on the canvas yet: add one by its endpoint above.";
      list.append(empty);
    }
  }

  function block(label, className, value) {
    const box = document.createElement("div");
    if (label) { box.append(label); }
    const pre = document.createElement("pre");
    pre.className = className;
    pre.textContent = JSON.stringify(value, null, 2);
    box.append(pre);
    return box;
  }

  function openModal(key) {
    open = data.activities.find((each) => each.key === key) || null;
    if (!open) { return; }
    document.getElementById("modal-title").textContent = "Configure " + open.name + " (" + key + ")";
    frame.width = String(open.size[0]);
    frame.height = String(open.size[1]);
    modal.hidden = false;
    frame.src = open.ui;
    say("Configuring " + key + ".");
  }

  function closeModal() {
    modal.hidden = true;
    frame.src = "about:blank";
    open = null;
  }

  async function send(path) {
    const answer = await fetch(path.url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(path.body || {}),
    });
    const body = await answer.json();
    if (!answer.ok) { throw new Error(body.error || ("HTTP " + answer.status)); }
    const opened = data.open;
    data = body;
    data.open = opened;
    render();
  }

  async function keep(activity) {
    const key = open.key;
    try {
      await send({ url: "/journeys/canvas/activities/" + encodeURIComponent(key), body: activity });
      closeModal();
      errorLine.textContent = "";
      say("Saved " + key + ".");
    } catch (error) {
      errorLine.textContent = key + ": " + error.message;
    }
  }

  const answers = {
    ready: () => post("initActivity", open.activity),
    requestSchema: () => post("requestedSchema", { schema: data.schema }),
    requestInteraction: () => post("requestedInteraction", data.interaction),
    requestTriggerEventDefinition: () => post("requestedTriggerEventDefinition",
      (data.interaction.triggers[0] || {}).metaData || {}),
    requestTokens: () => post("requestedTokens", data.tokens),
    requestEndpoints: () => post("requestedEndpoints", data.endpoints),
    requestCulture: () => post("requestedCulture", "en-US"),
    updateActivity: (activity) => keep(activity),
    requestInspectorClose: () => closeModal(),
  };

  window.addEventListener("message", (event) => {
    if (!open || event.source !== frame.contentWindow) { return; }
    if (event.origin !== new URL(open.ui).origin) { return; }
    let message;
    try { message = JSON.parse(event.data); } catch (error) { return; }
    if (!message || typeof message !== "object" || !message.e) { return; }
    window.canvasEvents.push(message.e);
    const args = Object.keys(message).filter((key) => key !== "e").sort().map((key) => message[key]);
    if (answers[message.e]) { answers[message.e](...args); }
  });

  // Done asks the activity to hand its configuration over, as Journey Builder's last step
  // does; the modal closes when updateActivity comes. Cancel keeps what was saved before.
  document.getElementById("done").addEventListener("click", () => { if (open) { post("clickedNext"); } });
  document.getElementById("cancel").addEventListener("click", () => { closeModal(); say("Cancelled."); });
  document.getElementById("activate").addEventListener("click", async () => {
    try {
      await send({ url: "/journeys/canvas/activate" });
      say("Activated: see each activity's answers.");
    } catch (error) {
      errorLine.textContent = error.message;
    }
  });

  render();
  if (data.open) { openModal(data.open); }
}());
