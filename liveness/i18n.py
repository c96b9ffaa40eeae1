"""Text shown to people, in Portuguese (pt-BR, the default) and English.

One table for the engine's instructions and verdict reasons and the app's
labels, so the overlay, the CLI and the pages say the same thing.
"""

from __future__ import annotations

LANGUAGES = ("pt", "en")
DEFAULT_LANGUAGE = "pt"

TEXT: dict[str, dict[str, str]] = {
    # Challenge instructions (phase names of challenge.PHASES).
    "neutral": {"pt": "Fique sério, rosto neutro", "en": "Keep a neutral face"},
    "smile": {"pt": "Agora sorria", "en": "Now smile"},
    "eyes_open": {"pt": "Olhe para a câmera", "en": "Look at the camera"},
    "eyes_closed": {"pt": "Pisque os olhos", "en": "Blink your eyes"},
    "eyes_reopen": {"pt": "Abra os olhos", "en": "Open your eyes"},
    "face_front": {"pt": "Olhe de frente para a câmera", "en": "Face the camera"},
    "turn_left": {"pt": "Vire o rosto para a sua esquerda", "en": "Turn your head to your left"},
    "turn_right": {"pt": "Vire o rosto para a sua direita", "en": "Turn your head to your right"},
    "done": {"pt": "Pronto!", "en": "Done!"},
    "failed": {"pt": "Não foi possível concluir", "en": "Could not complete"},
    "waiting_face": {"pt": "Posicione o rosto na câmera", "en": "Put your face in front of the camera"},
    # Step names.
    "step_smile": {"pt": "Neutro e sorriso", "en": "Neutral, then smile"},
    "step_blink": {"pt": "Piscar", "en": "Blink"},
    "step_turn_left": {"pt": "Virar à esquerda", "en": "Turn left"},
    "step_turn_right": {"pt": "Virar à direita", "en": "Turn right"},
    # Quality hints the customer can act on.
    "no_face": {"pt": "Nenhum rosto encontrado", "en": "No face found"},
    "multiple_faces": {"pt": "Mais de um rosto: fique sozinho na imagem", "en": "More than one face: be alone in the picture"},
    "face_too_small": {"pt": "Aproxime o rosto da câmera", "en": "Move closer to the camera"},
    "face_off_center": {"pt": "Centralize o rosto", "en": "Center your face"},
    "too_dark": {"pt": "Procure um lugar mais iluminado", "en": "Find a brighter place"},
    "too_bright": {"pt": "Evite luz forte atrás ou sobre o rosto", "en": "Avoid strong light on or behind you"},
    "blurry": {"pt": "Imagem borrada: segure a câmera firme", "en": "Blurry image: hold the camera still"},
    # Verdict reasons (verdict.REASONS), in plain words.
    "challenge_timeout": {"pt": "O tempo do desafio acabou", "en": "The challenge timed out"},
    "smile_not_detected": {"pt": "O sorriso não foi detectado", "en": "The smile was not detected"},
    "blink_not_detected": {"pt": "A piscada não foi detectada", "en": "The blink was not detected"},
    "turn_not_detected": {"pt": "O movimento da cabeça não foi detectado", "en": "The head turn was not detected"},
    "document_mismatch": {"pt": "O rosto não corresponde ao documento", "en": "The face does not match the document"},
    "document_no_face": {"pt": "Nenhum rosto encontrado no documento", "en": "No face found on the document"},
    "document_multiple_faces": {"pt": "O documento tem mais de um rosto", "en": "The document shows more than one face"},
    "no_document": {"pt": "Documento não enviado", "en": "No document provided"},
    "face_changed": {"pt": "O rosto mudou durante a verificação", "en": "The face changed during the check"},
    "spoof_suspected": {"pt": "Suspeita de foto, tela ou máscara", "en": "Suspected photo, screen or mask"},
    "passive_unavailable": {"pt": "Modelo de prova de vida indisponível", "en": "Liveness model unavailable"},
    "low_quality": {"pt": "Qualidade de imagem insuficiente", "en": "Image quality too low"},
    "frozen_video": {"pt": "Vídeo congelado ou imagem estática", "en": "Frozen video or still image"},
    "too_few_frames": {"pt": "Vídeo curto demais", "en": "Video too short"},
    "session_expired": {"pt": "Sessão expirada", "en": "Session expired"},
    "stopped_early": {"pt": "A verificação foi interrompida", "en": "The check was interrupted"},
    # Verdicts.
    "accepted": {"pt": "Cadastro aceito", "en": "Verification accepted"},
    "review": {"pt": "Enviado para análise", "en": "Sent for review"},
}


def t(key: str, lang: str = DEFAULT_LANGUAGE, **values) -> str:
    """The text for ``key`` in ``lang`` (falling back to Portuguese, then the key)."""
    entry = TEXT.get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry[DEFAULT_LANGUAGE]
    return text.format(**values) if values else text
