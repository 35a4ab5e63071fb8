"use strict";
// Journey Builder and an activity's page exchange window.postMessage strings: a JSON object
// with the event's name under "e" and its arguments under "z1", "z2", ... in order.
window.journeyBridge = (function () {
  const handlers = {};
  window.addEventListener("message", (event) => {
    let message;
    try { message = JSON.parse(event.data); } catch (error) { return; }
    if (!message || typeof message !== "object" || !message.e) { return; }
    const args = Object.keys(message).filter((key) => key !== "e").map((key) => message[key]);
    (handlers[message.e] || []).forEach((handler) => handler(...args));
  });
  return {
    send(event, ...args) {
      const message = { e: event };
      args.forEach((arg, index) => { message["z" + (index + 1)] = arg; });
      window.parent.postMessage(JSON.stringify(message), "*");
    },
    on(event, handler) {
      (handlers[event] = handlers[event] || []).push(handler);
    },
  };
}());
