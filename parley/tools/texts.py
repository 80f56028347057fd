"""What tools say to the customer, per language (the languages the assistant's own templates cover).

Tools fill these only with their own results (order numbers, amounts, references), never with free
text. ``say(key, language, **values)`` falls back to English for a language without a translation.
"""

from __future__ import annotations

from typing import Any

TEXTS: dict[str, dict[str, str]] = {
    "confirm": {
        "en": "Please confirm: {summary}. Reply YES to confirm or NO to cancel.",
        "es": "Por favor, confirma: {summary}. Responde SÍ para confirmar o NO para cancelar.",
        "de": "Bitte bestätige: {summary}. Antworte JA zum Bestätigen oder NEIN zum Abbrechen.",
        "fr": "Merci de confirmer : {summary}. Répondez OUI pour confirmer ou NON pour annuler.",
        "pt": "Por favor, confirme: {summary}. Responda SIM para confirmar ou NÃO para cancelar.",
        "it": "Per favore conferma: {summary}. Rispondi SÌ per confermare o NO per annullare.",
    },
    "refund_summary": {
        "en": "refund {amount} {currency} for order #{number}",
        "es": "reembolso de {amount} {currency} del pedido #{number}",
        "de": "Erstattung von {amount} {currency} für Bestellung #{number}",
        "fr": "remboursement de {amount} {currency} pour la commande #{number}",
        "pt": "reembolso de {amount} {currency} do pedido #{number}",
        "it": "rimborso di {amount} {currency} per l'ordine #{number}",
    },
    "payment_summary": {
        "en": "pay {amount} {currency} for order #{number}",
        "es": "pago de {amount} {currency} del pedido #{number}",
        "de": "Zahlung von {amount} {currency} für Bestellung #{number}",
        "fr": "paiement de {amount} {currency} pour la commande #{number}",
        "pt": "pagamento de {amount} {currency} do pedido #{number}",
        "it": "pagamento di {amount} {currency} per l'ordine #{number}",
    },
    "refund_done": {
        "en": "Done: {amount} {currency} for order #{number} is on its way back to you (reference {reference}).",
        "es": "Hecho: {amount} {currency} del pedido #{number} ya vuelven a ti (referencia {reference}).",
        "de": "Erledigt: {amount} {currency} für Bestellung #{number} sind auf dem Weg zurück zu dir (Referenz {reference}).",
        "fr": "C'est fait : {amount} {currency} pour la commande #{number} vous sont remboursés (référence {reference}).",
        "pt": "Feito: {amount} {currency} do pedido #{number} estão a caminho de volta para você (referência {reference}).",
        "it": "Fatto: {amount} {currency} per l'ordine #{number} ti stanno tornando indietro (riferimento {reference}).",
    },
    "payment_link": {
        "en": "Here is your secure payment link for order #{number} ({amount} {currency}): {url}",
        "es": "Este es tu enlace de pago seguro para el pedido #{number} ({amount} {currency}): {url}",
        "de": "Hier ist dein sicherer Zahlungslink für Bestellung #{number} ({amount} {currency}): {url}",
        "fr": "Voici votre lien de paiement sécurisé pour la commande #{number} ({amount} {currency}) : {url}",
        "pt": "Aqui está o seu link de pagamento seguro para o pedido #{number} ({amount} {currency}): {url}",
        "it": "Ecco il tuo link di pagamento sicuro per l'ordine #{number} ({amount} {currency}): {url}",
    },
    "cancelled": {
        "en": "Okay, I have cancelled that.",
        "es": "De acuerdo, lo he cancelado.",
        "de": "In Ordnung, ich habe das abgebrochen.",
        "fr": "D'accord, j'ai annulé.",
        "pt": "Certo, cancelei.",
        "it": "D'accordo, ho annullato.",
    },
    "expired": {
        "en": "That request expired. Please ask again if you still want it.",
        "es": "Esa solicitud ha caducado. Vuelve a pedirlo si todavía lo quieres.",
        "de": "Diese Anfrage ist abgelaufen. Frag bitte noch einmal, wenn du es noch möchtest.",
        "fr": "Cette demande a expiré. Redemandez si vous le souhaitez toujours.",
        "pt": "Esse pedido expirou. Peça de novo se ainda quiser.",
        "it": "Questa richiesta è scaduta. Chiedi di nuovo se la vuoi ancora.",
    },
    "needs_approval": {
        "en": "Thanks. A member of our team needs to approve this; we'll message you here as soon as they have.",
        "es": "Gracias. Una persona de nuestro equipo tiene que aprobarlo; te escribiremos aquí en cuanto lo haga.",
        "de": "Danke. Jemand aus unserem Team muss das freigeben; wir melden uns hier, sobald das passiert ist.",
        "fr": "Merci. Un membre de notre équipe doit l'approuver ; nous vous écrirons ici dès que c'est fait.",
        "pt": "Obrigado. Alguém da nossa equipe precisa aprovar; avisaremos aqui assim que aprovar.",
        "it": "Grazie. Una persona del nostro team deve approvarlo; ti scriveremo qui appena l'avrà fatto.",
    },
    "nothing_to_confirm": {
        "en": "There is nothing to confirm.",
        "es": "No hay nada que confirmar.",
        "de": "Es gibt nichts zu bestätigen.",
        "fr": "Il n'y a rien à confirmer.",
        "pt": "Não há nada para confirmar.",
        "it": "Non c'è niente da confermare.",
    },
    "already_handled": {
        "en": "That request was already handled.",
        "es": "Esa solicitud ya se ha tramitado.",
        "de": "Diese Anfrage wurde bereits bearbeitet.",
        "fr": "Cette demande a déjà été traitée.",
        "pt": "Esse pedido já foi tratado.",
        "it": "Questa richiesta è già stata gestita.",
    },
    "confirm_yourself": {
        "en": "Please confirm in your own reply.",
        "es": "Confírmalo, por favor, en tu propia respuesta.",
        "de": "Bitte bestätige das in deiner eigenen Antwort.",
        "fr": "Merci de confirmer dans votre propre réponse.",
        "pt": "Por favor, confirme na sua própria resposta.",
        "it": "Per favore conferma con una tua risposta.",
    },
    "not_understood": {
        "en": "I couldn't understand that request.",
        "es": "No he podido entender esa solicitud.",
        "de": "Diese Anfrage konnte ich nicht verstehen.",
        "fr": "Je n'ai pas compris cette demande.",
        "pt": "Não consegui entender esse pedido.",
        "it": "Non sono riuscito a capire questa richiesta.",
    },
    "not_available": {
        "en": "That action is not available here.",
        "es": "Esa acción no está disponible aquí.",
        "de": "Diese Aktion ist hier nicht verfügbar.",
        "fr": "Cette action n'est pas disponible ici.",
        "pt": "Essa ação não está disponível aqui.",
        "it": "Questa azione non è disponibile qui.",
    },
    "no_longer_available": {
        "en": "This action is no longer available.",
        "es": "Esta acción ya no está disponible.",
        "de": "Diese Aktion ist nicht mehr verfügbar.",
        "fr": "Cette action n'est plus disponible.",
        "pt": "Esta ação não está mais disponível.",
        "it": "Questa azione non è più disponibile.",
    },
    "order_not_found": {
        "en": "I couldn't find order {number} on your account.",
        "es": "No he encontrado el pedido {number} en tu cuenta.",
        "de": "Ich habe die Bestellung {number} in deinem Konto nicht gefunden.",
        "fr": "Je n'ai pas trouvé la commande {number} sur votre compte.",
        "pt": "Não encontrei o pedido {number} na sua conta.",
        "it": "Non ho trovato l'ordine {number} nel tuo account.",
    },
    "ticket_opened": {
        "en": "I have opened a ticket for our team; they will follow up with you.",
        "es": "He abierto un ticket para nuestro equipo; se pondrán en contacto contigo.",
        "de": "Ich habe ein Ticket für unser Team angelegt; sie melden sich bei dir.",
        "fr": "J'ai ouvert un ticket pour notre équipe ; elle reviendra vers vous.",
        "pt": "Abri um chamado para a nossa equipe; eles vão retornar para você.",
        "it": "Ho aperto un ticket per il nostro team; ti ricontatteranno.",
    },
    "handover": {
        "en": "I'm passing you to a member of our team; they'll reply here shortly.",
        "es": "Te paso con una persona de nuestro equipo; te responderá aquí en breve.",
        "de": "Ich verbinde dich mit jemandem aus unserem Team; du bekommst hier gleich eine Antwort.",
        "fr": "Je vous transfère à un membre de notre équipe ; il vous répondra ici sous peu.",
        "pt": "Vou passar você para alguém da nossa equipe; a resposta chega aqui em breve.",
        "it": "Ti passo a una persona del nostro team; ti risponderà qui a breve.",
    },
}


def say(key: str, language: str | None, **values: Any) -> str:
    """The ``key`` sentence in ``language`` (English when there is no translation), filled with ``values``."""
    variants = TEXTS[key]
    template = variants.get((language or "en").split("-")[0].lower(), variants["en"])
    return template.format(**values)
