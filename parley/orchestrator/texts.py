"""Every sentence the assistant may say by itself: templates per language, filled only with
knowledge-base quotes, tool results and the customer's own data. Nothing here states a fact."""

from __future__ import annotations

from typing import Any

SUPPORTED = ("en", "es", "de", "fr", "pt", "it")

TEMPLATES: dict[str, dict[str, str]] = {
    "answer": {
        "en": "Here is what our help center says in “{title}”:\n\n“{quote}”\n\nSource: {source}",
        "es": "Esto es lo que dice nuestro centro de ayuda en “{title}”:\n\n“{quote}”\n\nFuente: {source}",
        "de": "Das steht in unserem Hilfe-Center unter „{title}“:\n\n„{quote}“\n\nQuelle: {source}",
        "fr": "Voici ce que dit notre centre d'aide dans « {title} » :\n\n« {quote} »\n\nSource : {source}",
        "pt": "Veja o que diz a nossa central de ajuda em “{title}”:\n\n“{quote}”\n\nFonte: {source}",
        "it": "Ecco cosa dice il nostro centro assistenza in “{title}”:\n\n“{quote}”\n\nFonte: {source}",
    },
    "ask_order_number": {
        "en": "Could you tell me your order number (for example #1001)?",
        "es": "¿Podrías indicarme tu número de pedido (por ejemplo #1001)?",
        "de": "Kannst du mir deine Bestellnummer nennen (zum Beispiel #1001)?",
        "fr": "Pouvez-vous m'indiquer votre numéro de commande (par exemple #1001) ?",
        "pt": "Pode me informar o número do seu pedido (por exemplo #1001)?",
        "it": "Puoi indicarmi il numero dell'ordine (ad esempio #1001)?",
    },
    "ask_email": {
        "en": "Could you tell me the e-mail address you used for the order?",
        "es": "¿Podrías indicarme el correo electrónico que usaste en el pedido?",
        "de": "Mit welcher E-Mail-Adresse hast du bestellt?",
        "fr": "Quelle adresse e-mail avez-vous utilisée pour la commande ?",
        "pt": "Qual e-mail você usou no pedido?",
        "it": "Quale indirizzo e-mail hai usato per l'ordine?",
    },
    "ask_value": {
        "en": "Could you tell me the {name}?",
        "es": "¿Podrías indicarme {name}?",
        "de": "Kannst du mir {name} nennen?",
        "fr": "Pouvez-vous m'indiquer {name} ?",
        "pt": "Pode me informar {name}?",
        "it": "Puoi indicarmi {name}?",
    },
    "clarify": {
        "en": "Just to be sure I help with the right thing: do you mean {options}?",
        "es": "Para ayudarte bien: ¿te refieres a {options}?",
        "de": "Damit ich richtig helfe: meinst du {options}?",
        "fr": "Pour bien vous aider : parlez-vous de {options} ?",
        "pt": "Para ajudar certo: você quer dizer {options}?",
        "it": "Per aiutarti al meglio: intendi {options}?",
    },
    "or": {"en": "or", "es": "o", "de": "oder", "fr": "ou", "pt": "ou", "it": "o"},
    "handover": {
        "en": "I'm handing this conversation to a member of our team; they will see everything we discussed.",
        "es": "Paso esta conversación a una persona de nuestro equipo; verá todo lo que hemos hablado.",
        "de": "Ich übergebe das Gespräch an jemanden aus unserem Team; er oder sie sieht unseren bisherigen Verlauf.",
        "fr": "Je transmets cette conversation à un membre de notre équipe ; il verra tout notre échange.",
        "pt": "Vou passar esta conversa para alguém da nossa equipe; a pessoa verá tudo o que conversamos.",
        "it": "Passo questa conversazione a una persona del nostro team, che vedrà tutto quello che ci siamo detti.",
    },
    "attachment_received": {
        "en": "Thanks, I've received your file. I can't open files myself, so I'm passing it to a member of our team, who will see it together with our conversation.",
        "es": "Gracias, he recibido tu archivo. No puedo abrir archivos, así que se lo paso a una persona de nuestro equipo, que lo verá junto con nuestra conversación.",
        "de": "Danke, deine Datei ist angekommen. Dateien kann ich selbst nicht öffnen, deshalb gebe ich sie an jemanden aus unserem Team weiter, der sie zusammen mit unserem Gespräch sieht.",
        "fr": "Merci, j'ai bien reçu votre fichier. Je ne peux pas ouvrir les fichiers moi-même : je le transmets à un membre de notre équipe, qui le verra avec notre échange.",
        "pt": "Obrigado, recebi o seu arquivo. Não consigo abrir arquivos, por isso vou passá-lo para alguém da nossa equipe, que o verá junto com a nossa conversa.",
        "it": "Grazie, ho ricevuto il tuo file. Non posso aprire i file da solo, quindi lo passo a una persona del nostro team, che lo vedrà insieme alla nostra conversazione.",
    },
    "handover_closed": {
        "en": "Our team is offline right now; I've queued your conversation and someone will reply as soon as they are back.",
        "es": "Nuestro equipo no está disponible ahora; he dejado tu conversación en cola y te responderán en cuanto vuelvan.",
        "de": "Unser Team ist gerade nicht erreichbar; dein Anliegen ist in der Warteschlange und wir melden uns, sobald jemand da ist.",
        "fr": "Notre équipe n'est pas disponible pour le moment ; votre conversation est en file d'attente et quelqu'un vous répondra dès son retour.",
        "pt": "Nossa equipe está offline agora; sua conversa ficou na fila e alguém responderá assim que voltar.",
        "it": "Il nostro team ora non è disponibile; la conversazione è in coda e qualcuno ti risponderà appena possibile.",
    },
    "greeting": {
        "en": "Hi! How can I help you today?",
        "es": "¡Hola! ¿En qué puedo ayudarte?",
        "de": "Hallo! Wie kann ich helfen?",
        "fr": "Bonjour ! Comment puis-je vous aider ?",
        "pt": "Olá! Como posso ajudar?",
        "it": "Ciao! Come posso aiutarti?",
    },
    "thanks": {
        "en": "You're welcome! Is there anything else I can help with?",
        "es": "¡De nada! ¿Puedo ayudarte con algo más?",
        "de": "Gern geschehen! Kann ich sonst noch helfen?",
        "fr": "Avec plaisir ! Puis-je vous aider pour autre chose ?",
        "pt": "De nada! Posso ajudar com mais alguma coisa?",
        "it": "Prego! Posso aiutarti con qualcos'altro?",
    },
    "confirm_reminder": {
        "en": "Before anything else: shall I go ahead with this? {summary} Please answer Yes or No.",
        "es": "Antes de nada: ¿sigo adelante con esto? {summary} Responde Sí o No.",
        "de": "Zuerst noch: Soll ich das ausführen? {summary} Bitte antworte mit Ja oder Nein.",
        "fr": "Avant tout : dois-je continuer ? {summary} Répondez Oui ou Non.",
        "pt": "Antes de mais nada: posso continuar? {summary} Responda Sim ou Não.",
        "it": "Prima di tutto: procedo? {summary} Rispondi Sì o No.",
    },
    "cancelled": {
        "en": "Okay, I have not done it. Anything else I can help with?",
        "es": "De acuerdo, no lo he hecho. ¿Algo más en lo que pueda ayudarte?",
        "de": "Alles klar, ich habe es nicht ausgeführt. Kann ich sonst noch helfen?",
        "fr": "D'accord, je ne l'ai pas fait. Puis-je vous aider pour autre chose ?",
        "pt": "Certo, não fiz. Posso ajudar com mais alguma coisa?",
        "it": "Va bene, non l'ho fatto. Posso aiutarti con altro?",
    },
    "tool_failed": {
        "en": "I couldn't complete that just now.",
        "es": "No he podido completarlo ahora mismo.",
        "de": "Das hat gerade leider nicht geklappt.",
        "fr": "Je n'ai pas pu le faire pour le moment.",
        "pt": "Não consegui concluir agora.",
        "it": "Non sono riuscito a completarlo adesso.",
    },
}

YES_NO_TITLES: dict[str, tuple[str, str]] = {
    "en": ("Yes", "No"),
    "es": ("Sí", "No"),
    "de": ("Ja", "Nein"),
    "fr": ("Oui", "Non"),
    "pt": ("Sim", "Não"),
    "it": ("Sì", "No"),
}


def pick_language(language: str | None, allowed: list[str] | None = None) -> str:
    """The template language to use: the customer's if supported (and allowed), else the first allowed, else English."""
    allowed = [code for code in (allowed or []) if code in SUPPORTED]
    if language in SUPPORTED and (not allowed or language in allowed):
        return str(language)
    return allowed[0] if allowed else "en"


def render(key: str, language: str, **values: Any) -> str:
    """Fill template ``key`` in ``language`` (English when that language has none)."""
    variants = TEMPLATES[key]
    return variants.get(language, variants["en"]).format(**values)


def yes_no_buttons(language: str) -> list[dict[str, str]]:
    """Quick-reply buttons for a confirmation."""
    yes, no = YES_NO_TITLES.get(language, YES_NO_TITLES["en"])
    return [{"id": "confirm_yes", "title": yes}, {"id": "confirm_no", "title": no}]


ORDER_LINES: dict[str, dict[str, str]] = {
    "status": {
        "en": "Order #{number}: {status_label}.",
        "es": "Pedido #{number}: {status_label}.",
        "de": "Bestellung #{number}: {status_label}.",
        "fr": "Commande #{number} : {status_label}.",
        "pt": "Pedido #{number}: {status_label}.",
        "it": "Ordine #{number}: {status_label}.",
    },
    "shipped_at": {
        "en": "Shipped: {value}.",
        "es": "Enviado: {value}.",
        "de": "Versendet: {value}.",
        "fr": "Expédiée : {value}.",
        "pt": "Enviado: {value}.",
        "it": "Spedito: {value}.",
    },
    "delivered_at": {
        "en": "Delivered: {value}.",
        "es": "Entregado: {value}.",
        "de": "Zugestellt: {value}.",
        "fr": "Livrée : {value}.",
        "pt": "Entregue: {value}.",
        "it": "Consegnato: {value}.",
    },
    "estimated_delivery": {
        "en": "Estimated delivery: {value}.",
        "es": "Entrega estimada: {value}.",
        "de": "Voraussichtliche Zustellung: {value}.",
        "fr": "Livraison estimée : {value}.",
        "pt": "Entrega estimada: {value}.",
        "it": "Consegna prevista: {value}.",
    },
    "tracking": {
        "en": "Tracking ({carrier}): {tracking}",
        "es": "Seguimiento ({carrier}): {tracking}",
        "de": "Sendungsverfolgung ({carrier}): {tracking}",
        "fr": "Suivi ({carrier}) : {tracking}",
        "pt": "Rastreamento ({carrier}): {tracking}",
        "it": "Tracciamento ({carrier}): {tracking}",
    },
}


def render_tool_result(data: dict[str, Any], language: str) -> str:
    """Describe a tool's output using only its own fields (orders get a dedicated template)."""
    if "number" in data and "status_label" in data:
        lines = [ORDER_LINES["status"].get(language, ORDER_LINES["status"]["en"]).format(**data)]
        for key in ("shipped_at", "delivered_at", "estimated_delivery"):
            if data.get(key):
                lines.append(ORDER_LINES[key].get(language, ORDER_LINES[key]["en"]).format(value=str(data[key])[:10]))
        tracking = data.get("tracking_url") or data.get("tracking_number")
        if tracking:
            lines.append(
                ORDER_LINES["tracking"]
                .get(language, ORDER_LINES["tracking"]["en"])
                .format(carrier=data.get("carrier") or "-", tracking=tracking)
            )
        return " ".join(lines)
    facts = [
        f"{key.replace('_', ' ')}: {value}" for key, value in data.items() if isinstance(value, (str, int, float)) and value != ""
    ]
    return "\n".join(facts[:12])
