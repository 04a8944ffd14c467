/*
 * PCN chat widget: the assistant of the French National Contact Point for
 * cross-border healthcare, on Rasa's REST channel.
 *
 * No framework, no CDN, no inline script (works under a strict CSP).
 * Every text is rendered with textContent / createTextNode, never innerHTML;
 * https URLs in the assistant's text become <a> elements built with DOM APIs.
 *
 * Configuration: window.PCN_CONFIG = {rasaUrl: "http://host:5005"} (/config.js).
 * Page language: <html lang>, sent as metadata {language, channel: "web"}.
 * Conversation (sender id + rendered messages) kept in sessionStorage: it
 * survives reloads of the tab and is forgotten when the tab is closed.
 *
 * Answers: the assistant sends the short answer with the buttons "More
 * details" (/more_details) and "Sources" (/show_sources), followed by a
 * `custom` message {pcn_answer: {details, sources, language}}. The widget turns
 * those two buttons into disclosures that open the details and the sources in
 * place (no round trip); other REST clients send the payloads instead. When a
 * reply arrives the log scrolls to its first message, not to its last button,
 * and only the short answer is announced to screen readers (the panels are
 * hidden until opened).
 */
(function () {
  "use strict";

  var STORAGE_KEY = "pcn-chat:v1";
  // Payloads of the answer buttons the widget opens in place, and what each opens.
  var DISCLOSURES = { "/more_details": "details", "/show_sources": "sources" };
  var MAX_STORED_MESSAGES = 200;
  var REQUEST_TIMEOUT_MS = 30000;
  var DEFAULT_MAX_CHARS = 5000;  // the server says its limit (GET /webhooks/rest/limits)

  var STRINGS = {
    fr: {
      launcher: "Une question ? L'assistant du PCN",
      title: "Assistant du Point de contact national",
      subtitle: "Informations générales, sans avis médical",
      close: "Fermer la discussion",
      restart: "Nouvelle conversation",
      restartConfirm: "Effacer cette conversation et en commencer une nouvelle ?",
      log: "Conversation avec l'assistant",
      you: "Vous : ",
      bot: "Assistant : ",
      notice: "Information : ",
      privacy: "Ne saisissez pas de données de santé ni de numéro de sécurité sociale.",
      privacyLink: "Vos données",
      privacyHref: "/donnees-personnelles.html",
      inputLabel: "Votre question",
      placeholder: "Ex. : Faut-il une autorisation pour une IRM en Allemagne ?",
      send: "Envoyer",
      human: "Parler à un agent",
      typing: "L'assistant écrit…",
      counter: function (n, max) { return n + " / " + max + " caractères"; },
      tooLong: function (max) {
        return "Votre message est trop long : " + max + " caractères au maximum. " +
          "Raccourcissez-le (inutile de détailler votre situation médicale) puis renvoyez-le.";
      },
      networkError: "Le service de discussion est injoignable (connexion interrompue ou serveur indisponible). " +
        "Votre message n'a pas été perdu : vous pouvez réessayer.",
      retry: "Réessayer",
      welcome: "Bonjour ! Je suis l'assistant du Point de contact national (PCN) pour les soins de santé " +
        "transfrontaliers. Je réponds aux questions générales sur la directive 2011/24/UE : autorisation " +
        "préalable, remboursement, ordonnances… Je ne prends aucune décision et ne donne pas d'avis médical. " +
        "En cas d'urgence, appelez le 15 ou le 112.",
      linkNewWindow: " (nouvelle fenêtre)",
      newMessage: "Nouveau message de l'assistant"
    },
    en: {
      launcher: "A question? Ask the NCP assistant",
      title: "National Contact Point assistant",
      subtitle: "General information, no medical advice",
      close: "Close the chat",
      restart: "New conversation",
      restartConfirm: "Clear this conversation and start a new one?",
      log: "Conversation with the assistant",
      you: "You: ",
      bot: "Assistant: ",
      notice: "Notice: ",
      privacy: "Do not type health details or your social security number.",
      privacyLink: "Your data",
      privacyHref: "/en/personal-data.html",
      inputLabel: "Your question",
      placeholder: "E.g. Do I need authorisation for an MRI in Germany?",
      send: "Send",
      human: "Talk to an agent",
      typing: "The assistant is typing…",
      counter: function (n, max) { return n + " / " + max + " characters"; },
      tooLong: function (max) {
        return "Your message is too long: " + max + " characters at most. " +
          "Please shorten it (no need to describe your medical situation) and send it again.";
      },
      networkError: "The chat service cannot be reached (connection lost or server unavailable). " +
        "Your message is not lost: you can try again.",
      retry: "Try again",
      welcome: "Hello! I am the assistant of the French National Contact Point (NCP) for cross-border " +
        "healthcare. I answer general questions on Directive 2011/24/EU: prior authorisation, " +
        "reimbursement, prescriptions… I take no decisions and give no medical advice. " +
        "In an emergency, call 112.",
      linkNewWindow: " (opens in a new window)",
      newMessage: "New message from the assistant"
    }
  };

  var pageLang = ((document.documentElement.getAttribute("lang") || "fr").slice(0, 2) || "fr").toLowerCase();
  var lang = STRINGS[pageLang] ? pageLang : "fr";
  var T = STRINGS[lang];
  var config = window.PCN_CONFIG || {};
  var rasaUrl = String(config.rasaUrl || "").replace(/\/+$/, "");
  var maxChars = DEFAULT_MAX_CHARS;

  // ---------------------------------------------------------------- helpers
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (name) {
        var value = attrs[name];
        if (value === null || value === undefined || value === false) { return; }
        if (name === "text") { node.textContent = value; }
        else if (name === "className") { node.className = value; }
        else { node.setAttribute(name, value === true ? "" : String(value)); }
      });
    }
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function visuallyHidden(text) {
    return el("span", { className: "pcn-visually-hidden", text: text });
  }

  function countChars(text) {
    var normalised = text.normalize ? text.normalize("NFC") : text;
    return Array.from(normalised.trim()).length;
  }

  function randomId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return "web-" + Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  // https URLs (and www. host names) in the assistant's text → links.
  var URL_PATTERN = /\bhttps:\/\/[^\s<>"'«»]+|\bwww\.[a-z0-9-]+(?:\.[a-z0-9-]+)+(?:\/[^\s<>"'«»]*)?/gi;
  var TRAILING = /[.,;:!?)\]»]+$/;

  function safeHttpsUrl(raw) {
    var candidate = /^www\./i.test(raw) ? "https://" + raw : raw;
    try {
      var url = new URL(candidate);
      if (url.protocol !== "https:" || url.username || url.password) { return null; }
      return url.href;
    } catch (error) {
      return null;
    }
  }

  function appendRichText(parent, text) {
    var lastIndex = 0;
    String(text).replace(URL_PATTERN, function (match, offset) {
      var trailing = (match.match(TRAILING) || [""])[0];
      var raw = match.slice(0, match.length - trailing.length);
      var href = safeHttpsUrl(raw);
      if (!href) { return match; }
      parent.appendChild(document.createTextNode(text.slice(lastIndex, offset)));
      var link = el("a", { href: href, target: "_blank", rel: "noopener noreferrer" });
      link.appendChild(document.createTextNode(raw));
      link.appendChild(visuallyHidden(T.linkNewWindow));
      parent.appendChild(link);
      lastIndex = offset + raw.length;
      return match;
    });
    parent.appendChild(document.createTextNode(text.slice(lastIndex)));
  }

  // ---------------------------------------------------------------- storage
  function emptyState() {
    return { sender: randomId(), messages: [], open: false };
  }

  function loadState() {
    try {
      var raw = window.sessionStorage.getItem(STORAGE_KEY);
      if (!raw) { return emptyState(); }
      var state = JSON.parse(raw);
      if (!state || typeof state.sender !== "string" || !Array.isArray(state.messages)) { return emptyState(); }
      state.messages = state.messages.filter(function (m) {
        return m && typeof m.text === "string" && (m.from === "user" || m.from === "bot" || m.from === "notice");
      });
      return state;
    } catch (error) {
      return emptyState();
    }
  }

  var state = loadState();

  function saveState() {
    try {
      var dropped = Math.max(0, state.messages.length - MAX_STORED_MESSAGES);
    state.messages = state.messages.slice(-MAX_STORED_MESSAGES);
    if (typeof state.lastReply === "number") {
      state.lastReply = state.lastReply - dropped >= 0 ? state.lastReply - dropped : undefined;
    }
      window.sessionStorage.setItem(STORAGE_KEY, JSON.stringify(state));
    } catch (error) {
      /* storage full or disabled: the conversation simply is not kept */
    }
  }

  // ---------------------------------------------------------------- DOM
  var launcher = el("button", {
    type: "button", className: "pcn-launcher", "aria-expanded": "false", "aria-controls": "pcn-chat-dialog"
  }, [el("span", { className: "pcn-launcher__icon", "aria-hidden": "true", text: "?" }), T.launcher]);

  var closeButton = el("button", { type: "button", className: "pcn-icon-button pcn-close", title: T.close },
    [el("span", { "aria-hidden": "true", text: "×" }), visuallyHidden(T.close)]);
  var restartButton = el("button", { type: "button", className: "pcn-text-button pcn-restart", text: T.restart });

  var header = el("div", { className: "pcn-header" }, [
    el("h2", { id: "pcn-chat-title", className: "pcn-title", text: T.title }),
    closeButton,
    el("p", { className: "pcn-subtitle", text: T.subtitle }),
    restartButton
  ]);

  var privacy = el("p", { className: "pcn-privacy", id: "pcn-chat-privacy" }, [
    el("span", { className: "pcn-privacy__icon", "aria-hidden": "true", text: "!" }),
    T.privacy + " ",
    el("a", { href: T.privacyHref, text: T.privacyLink })
  ]);

  var log = el("div", {
    className: "pcn-log", role: "log", "aria-live": "polite", "aria-relevant": "additions",
    "aria-label": T.log, tabindex: "0", id: "pcn-chat-log"
  });

  var typing = el("div", { className: "pcn-typing", role: "status", hidden: true }, [
    el("span", { className: "pcn-typing__dots", "aria-hidden": "true" },
      [el("span"), el("span"), el("span")]),
    visuallyHidden(T.typing)
  ]);

  var input = el("textarea", {
    id: "pcn-chat-input", className: "pcn-input", rows: "2", placeholder: T.placeholder,
    "aria-describedby": "pcn-chat-counter pcn-chat-privacy", autocomplete: "off", spellcheck: "true"
  });
  var counter = el("p", { id: "pcn-chat-counter", className: "pcn-counter", text: T.counter(0, maxChars) });
  var sendButton = el("button", { type: "submit", className: "pcn-send", text: T.send });
  var humanButton = el("button", { type: "button", className: "pcn-human", text: T.human });

  var form = el("form", { className: "pcn-form", novalidate: true }, [
    el("label", { "for": "pcn-chat-input", className: "pcn-label", text: T.inputLabel }),
    input,
    el("div", { className: "pcn-form__row" }, [counter, humanButton, sendButton])
  ]);

  var dialog = el("div", {
    id: "pcn-chat-dialog", className: "pcn-dialog", role: "dialog", "aria-modal": "false",
    "aria-labelledby": "pcn-chat-title", hidden: true
  }, [header, privacy, log, typing, form]);

  var root = el("div", { className: "pcn-chat", lang: lang }, [dialog, launcher]);

  // ---------------------------------------------------------------- rendering
  var panelCount = 0;

  function disclosures(message) {
    // "More details" / "Sources": buttons that open a panel below the answer, kept
    // working for the whole conversation (they ask nothing of the server).
    var box = el("div", { className: "pcn-disclosures" });
    var panels = [];
    message.expanded = message.expanded || {};
    (message.buttons || []).forEach(function (button) {
      var part = DISCLOSURES[button.payload];
      var content = part && message.answer[part];
      if (!content) { return; }
      panelCount += 1;
      var id = "pcn-panel-" + panelCount;
      var open = !!message.expanded[part];
      var toggle = el("button", {
        type: "button", className: "pcn-disclosure", "aria-expanded": open ? "true" : "false",
        "aria-controls": id, "data-part": part
      }, [el("span", { className: "pcn-disclosure__icon", "aria-hidden": "true" }), button.title]);
      var panel = el("div", { id: id, className: "pcn-panel pcn-panel--" + part, hidden: !open });
      appendRichText(panel, content);
      toggle.addEventListener("click", function () {
        var opening = toggle.getAttribute("aria-expanded") !== "true";
        toggle.setAttribute("aria-expanded", opening ? "true" : "false");
        panel.hidden = !opening;
        message.expanded[part] = opening;
        saveState();
      });
      box.appendChild(toggle);
      panels.push(panel);
    });
    return box.childNodes.length ? [box].concat(panels) : [];
  }

  function isDisclosure(message, button) {
    var part = DISCLOSURES[button.payload];
    return !!(part && message.answer && message.answer[part]);
  }

  function renderMessage(message, index) {
    var item = el("div", { className: "pcn-msg pcn-msg--" + message.from });
    if (message.answer && message.answer.language && message.answer.language !== lang) {
      item.setAttribute("lang", message.answer.language);  // read with the right voice
    }
    var prefix = message.from === "user" ? T.you : message.from === "bot" ? T.bot : T.notice;
    var bubble = el("p", { className: "pcn-msg__text" }, [visuallyHidden(prefix)]);
    if (message.from === "user") {
      bubble.appendChild(document.createTextNode(message.text));
    } else {
      appendRichText(bubble, message.text);
    }
    item.appendChild(bubble);
    if (message.from === "bot" && message.answer) {
      disclosures(message).forEach(function (node) { item.appendChild(node); });
    }
    var choices = message.from === "bot" && Array.isArray(message.buttons) ? message.buttons.filter(function (b) {
      return b && typeof b.title === "string" && typeof b.payload === "string" && !isDisclosure(message, b);
    }) : [];
    if (choices.length && !message.used) {
      var group = el("div", { className: "pcn-buttons", role: "group", "aria-label": message.text.slice(0, 80) });
      choices.forEach(function (button) {
        var node = el("button", {
          type: "button", className: "pcn-choice", text: button.title, "data-payload": button.payload
        });
        node.addEventListener("click", function () {
          if (busy) { return; }
          message.used = true;
          Array.prototype.forEach.call(group.querySelectorAll("button"), function (b) { b.disabled = true; });
          saveState();
          sendUserMessage(button.title, button.payload);
          input.focus();
        });
        group.appendChild(node);
      });
      item.appendChild(group);
    }
    if (message.from === "notice" && message.retry) {
      var retryButton = el("button", { type: "button", className: "pcn-choice pcn-retry", text: T.retry });
      retryButton.addEventListener("click", function () {
        if (busy) { return; }
        var pending = message.retry;
        state.messages.splice(state.messages.indexOf(message), 1);
        saveState();
        item.parentNode.removeChild(item);
        post(pending.display, pending.payload);
        input.focus();
      });
      item.appendChild(el("div", { className: "pcn-buttons" }, [retryButton]));
    }
    item.setAttribute("data-index", String(index));
    return item;
  }

  function addMessage(message) {
    // Only the latest bot reply keeps clickable buttons.
    if (message.from === "user") {
      state.messages.forEach(function (m) { if (m.buttons) { m.used = true; } });
      Array.prototype.forEach.call(log.querySelectorAll(".pcn-buttons"), function (group) {
        if (!group.querySelector(".pcn-retry")) { group.parentNode.removeChild(group); }
      });
    }
    state.messages.push(message);
    saveState();
    var node = renderMessage(message, state.messages.length - 1);
    log.appendChild(node);
    scrollToEnd();
    return node;
  }

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  // A reply is read from its first line: bring the top of its first message to
  // the top of the log (the browser stops at the end when the reply is short).
  function scrollToStartOf(node) {
    var offset = node.getBoundingClientRect().top - log.getBoundingClientRect().top;
    log.scrollTop = Math.max(0, log.scrollTop + offset - 8);
  }

  function renderAll() {
    while (log.firstChild) { log.removeChild(log.firstChild); }
    if (!state.messages.length) {
      state.messages.push({ from: "bot", text: T.welcome, local: true });
      saveState();
    }
    state.messages.forEach(function (message, index) { log.appendChild(renderMessage(message, index)); });
    scrollToLastReply();
  }

  // After a reload or on opening the dialog: where the last reply starts.
  function scrollToLastReply() {
    var start = typeof state.lastReply === "number" ?
      log.querySelector('[data-index="' + state.lastReply + '"]') : null;
    if (start) { scrollToStartOf(start); } else { scrollToEnd(); }
  }

  // ---------------------------------------------------------------- sending
  var busy = false;

  function setBusy(value) {
    busy = value;
    typing.hidden = !value;
    log.setAttribute("aria-busy", value ? "true" : "false");
    sendButton.setAttribute("aria-disabled", value ? "true" : "false");
    humanButton.setAttribute("aria-disabled", value ? "true" : "false");
    if (value) { scrollToEnd(); }
  }

  function answerParts(custom) {
    var data = custom && typeof custom === "object" ? custom.pcn_answer : null;
    if (!data || typeof data !== "object") { return null; }
    return {
      details: typeof data.details === "string" ? data.details : "",
      sources: typeof data.sources === "string" ? data.sources : "",
      language: typeof data.language === "string" ? data.language.slice(0, 2) : ""
    };
  }

  function botMessagesFrom(payload) {
    if (!Array.isArray(payload)) { return []; }
    var messages = [];
    payload.forEach(function (m) {
      if (!m) { return; }
      // The answer's details and sources come as a custom message right after its text.
      var parts = answerParts(m.custom);
      if (parts && messages.length) {
        messages[messages.length - 1].answer = parts;
      }
      if (typeof m.text !== "string" || !m.text.trim()) { return; }
      var buttons = Array.isArray(m.buttons) ? m.buttons.filter(function (b) {
        return b && typeof b.title === "string" && typeof b.payload === "string";
      }).map(function (b) { return { title: b.title, payload: b.payload }; }) : [];
      messages.push({ from: "bot", text: m.text, buttons: buttons.length ? buttons : undefined });
    });
    return messages;
  }

  function showNetworkError(display, payload) {
    addMessage({ from: "notice", text: T.networkError, retry: { display: display, payload: payload } });
  }

  function post(display, payload) {
    setBusy(true);
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? window.setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS) : null;
    var body = JSON.stringify({
      sender: state.sender,
      message: payload,
      metadata: { language: lang, channel: "web" }
    });
    return fetch(rasaUrl + "/webhooks/rest/webhook", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: body,
      credentials: "omit",
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      return response.json().then(function (data) {
        return { status: response.status, data: data };
      }, function () {
        return { status: response.status, data: null };
      });
    }).then(function (result) {
      var messages = botMessagesFrom(result.data);
      if (!messages.length && result.status >= 400) {
        showNetworkError(display, payload);
        return;
      }
      // 400 / 413 / 429 come with one bilingual bot message: show it as a notice.
      var first = null;
      messages.forEach(function (m) {
        if (result.status >= 400) { m.from = "notice"; }
        var node = addMessage(m);
        if (!first) {
          first = node;
          state.lastReply = state.messages.length - 1;
          saveState();
        }
      });
      if (first) { scrollToStartOf(first); }
    }).catch(function () {
      showNetworkError(display, payload);
    }).then(function () {
      if (timer) { window.clearTimeout(timer); }
      setBusy(false);
    });
  }

  function sendUserMessage(display, payload) {
    addMessage({ from: "user", text: display });
    post(display, payload);
  }

  // ---------------------------------------------------------------- input
  function updateCounter() {
    var n = countChars(input.value);
    counter.textContent = T.counter(n, maxChars);
    var over = n > maxChars;
    counter.classList.toggle("pcn-counter--over", over);
    if (over) { input.setAttribute("aria-invalid", "true"); } else { input.removeAttribute("aria-invalid"); }
    return n;
  }

  function submit() {
    if (busy) { return; }
    var text = input.value.normalize ? input.value.normalize("NFC").trim() : input.value.trim();
    if (!text) { input.focus(); return; }
    if (updateCounter() > maxChars) {
      addMessage({ from: "notice", text: T.tooLong(maxChars) });
      input.focus();
      return;
    }
    input.value = "";
    updateCounter();
    sendUserMessage(text, text);
    input.focus();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    submit();
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  input.addEventListener("input", updateCounter);

  humanButton.addEventListener("click", function () {
    if (busy) { return; }
    sendUserMessage(T.human, "/request_human");
    input.focus();
  });

  restartButton.addEventListener("click", function () {
    if (!window.confirm(T.restartConfirm)) { return; }
    state = emptyState();
    state.open = true;
    saveState();
    renderAll();
    input.focus();
  });

  // ---------------------------------------------------------------- dialog
  function openDialog(moveFocus) {
    dialog.hidden = false;
    root.classList.add("pcn-chat--open");
    launcher.setAttribute("aria-expanded", "true");
    state.open = true;
    saveState();
    scrollToLastReply();
    if (moveFocus) { input.focus(); }
  }

  function closeDialog() {
    dialog.hidden = true;
    root.classList.remove("pcn-chat--open");
    launcher.setAttribute("aria-expanded", "false");
    state.open = false;
    saveState();
    launcher.focus();
  }

  launcher.addEventListener("click", function () {
    if (dialog.hidden) { openDialog(true); } else { closeDialog(); }
  });
  closeButton.addEventListener("click", closeDialog);
  dialog.addEventListener("keydown", function (event) {
    if (event.key === "Escape" || event.key === "Esc") {
      event.preventDefault();
      closeDialog();
    }
  });

  function loadLimits() {
    if (!rasaUrl || !window.fetch) { return; }
    fetch(rasaUrl + "/webhooks/rest/limits", { credentials: "omit" }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (limits) {
      var value = limits && parseInt(limits.max_message_chars, 10);
      if (value > 0) {
        maxChars = value;
        updateCounter();
      }
    }).catch(function () { /* keep the default limit */ });
  }

  function start() {
    document.body.appendChild(root);
    renderAll();
    updateCounter();
    loadLimits();
    if (state.open) { openDialog(false); }
    window.PCNChat = {
      open: function () { openDialog(true); },
      close: closeDialog,
      get maxChars() { return maxChars; }
    };
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
