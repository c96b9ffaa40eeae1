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
    # App: common.
    "app_name": {"pt": "Verificação de identidade facial", "en": "Face identity verification"},
    "language": {"pt": "Idioma", "en": "Language"},
    "mode_demo": {"pt": "Modo demonstração: as pontuações aparecem na tela", "en": "Demo mode: scores are shown on screen"},
    "mode_production": {"pt": "Modo produção", "en": "Production mode"},
    "test_config_active": {"pt": "Configuração de teste ativa: desafio fixo {steps}, {timeout:.0f} s por etapa", "en": "Test configuration active: fixed challenge {steps}, {timeout:.0f} s per step"},
    "policy_version": {"pt": "Versão da política", "en": "Policy version"},
    "model_unavailable": {"pt": "Modelo indisponível: {name}", "en": "Model unavailable: {name}"},
    "decision": {"pt": "Decisão", "en": "Decision"},
    "reasons": {"pt": "Motivos", "en": "Reasons"},
    "scores": {"pt": "Pontuações", "en": "Scores"},
    "versions": {"pt": "Versões", "en": "Versions"},
    "store_unavailable": {"pt": "Banco de casos indisponível: {error}", "en": "Case store unavailable: {error}"},
    # Replay.
    "replay_title": {"pt": "Replay de vídeo", "en": "Video replay"},
    "replay_video": {"pt": "Vídeo gravado (mp4, webm, mov)", "en": "Recorded video (mp4, webm, mov)"},
    "replay_document": {"pt": "Documento (opcional)", "en": "Document (optional)"},
    "replay_steps": {"pt": "Desafio pedido ao cliente", "en": "Challenge the customer was given"},
    "replay_run": {"pt": "Analisar", "en": "Analyse"},
    "replay_need_video": {"pt": "Envie um vídeo e escolha ao menos uma etapa", "en": "Upload a video and pick at least one step"},
    "replay_running": {"pt": "Analisando o vídeo…", "en": "Analysing the video…"},
    "replay_frames": {"pt": "{frames} quadros analisados em {seconds:.1f} s", "en": "{frames} frames analysed in {seconds:.1f} s"},
    "replay_save_title": {"pt": "Salvar como caso", "en": "Save as a case"},
    "replay_customer_ref": {"pt": "Referência do cliente", "en": "Customer reference"},
    "replay_customer_ref_help": {"pt": "O pseudônimo do cliente (nunca o nome ou o CPF)", "en": "The customer's pseudonym (never a name or a document number)"},
    "replay_save": {"pt": "Salvar caso", "en": "Save case"},
    # Fila de análise.
    "queue_title": {"pt": "Fila de análise", "en": "Review queue"},
    "queue_count": {"pt": "{count} caso(s) aguardando análise", "en": "{count} case(s) waiting for review"},
    "queue_empty": {"pt": "Nenhum caso aguardando análise", "en": "No case waiting for review"},
    "queue_case": {"pt": "Caso", "en": "Case"},
    "queue_approve": {"pt": "Aprovar (é o cliente, ao vivo)", "en": "Approve (it is the customer, live)"},
    "queue_reject": {"pt": "Rejeitar (fraude ou outra pessoa)", "en": "Reject (fraud or another person)"},
    "queue_note": {"pt": "Observação (obrigatória)", "en": "Note (required)"},
    "queue_submit": {"pt": "Registrar decisão", "en": "Record decision"},
    "queue_decided": {"pt": "Decisão registrada: {outcome}", "en": "Decision recorded: {outcome}"},
    "queue_evidence": {"pt": "Evidências", "en": "Evidence"},
    # Modelo e limiares.
    "thresholds_title": {"pt": "Modelo e limiares", "en": "Model and thresholds"},
    "thresholds_models": {"pt": "Modelos e avaliação", "en": "Models and evaluation"},
    "thresholds_no_evaluation": {"pt": "Nenhum resultado de avaliação em models/passive/ ainda", "en": "No evaluation results in models/passive/ yet"},
    "thresholds_whatif": {"pt": "E se? Limiares sobre os casos já rotulados", "en": "What if? Thresholds over past labelled cases"},
    "thresholds_no_labels": {"pt": "Ainda não há casos rotulados pelos analistas", "en": "No case labelled by reviewers yet"},
    "thresholds_apcer_help": {"pt": "Ataques (casos rejeitados) que seriam aceitos", "en": "Attacks (rejected cases) that would be accepted"},
    "thresholds_bpcer_help": {"pt": "Clientes genuínos (casos aprovados) que não seriam aceitos automaticamente", "en": "Genuine customers (approved cases) that would not be accepted automatically"},
    "thresholds_labelled": {"pt": "Genuínos / ataques", "en": "Genuine / attacks"},
    "thresholds_labelled_help": {"pt": "Casos aprovados / rejeitados pelos analistas", "en": "Cases approved / rejected by reviewers"},
    "thresholds_changed": {"pt": "Decisões que mudariam", "en": "Decisions that would change"},
    "thresholds_save": {"pt": "Salvar nova versão da política", "en": "Save a new policy version"},
    "thresholds_save_button": {"pt": "Salvar versão", "en": "Save version"},
    "thresholds_saved": {"pt": "Política {version} salva e em vigor", "en": "Policy {version} saved and in force"},
    # Charts.
    "chart_scores": {"pt": "Pontuações por quadro", "en": "Scores per frame"},
    "chart_smile": {"pt": "Sorriso", "en": "Smile"},
    "chart_blink": {"pt": "Piscada", "en": "Blink"},
    "chart_yaw": {"pt": "Giro da cabeça (graus)", "en": "Head yaw (degrees)"},
    "challenge_events": {"pt": "Etapas do desafio", "en": "Challenge steps"},
    # Login.
    "login_needed": {"pt": "Esta página é para analistas: entre com sua conta.", "en": "This page is for reviewers: please log in."},
    "username": {"pt": "Usuário", "en": "Username"},
    "password": {"pt": "Senha", "en": "Password"},
    "login": {"pt": "Entrar", "en": "Log in"},
    "logout": {"pt": "Sair", "en": "Log out"},
    "login_failed": {"pt": "Usuário ou senha incorretos", "en": "Wrong username or password"},
    "login_locked": {"pt": "Muitas tentativas: tente novamente depois das {until}", "en": "Too many attempts: try again after {until}"},
    "login_role_needed": {"pt": "Esta página exige o perfil {roles}", "en": "This page needs the role {roles}"},
    "login_as": {"pt": "Conectado como {username} ({role})", "en": "Logged in as {username} ({role})"},
    # Início.
    "home_menu": {"pt": "Início", "en": "Home"},
    "home_title": {"pt": "Verificação de identidade facial", "en": "Face identity verification"},
    "home_intro": {"pt": "Antes de uma operação crítica, o cliente prova que é ele mesmo (o rosto corresponde ao documento) e que está presente de verdade (prova de vida).", "en": "Before a critical operation the customer proves it is really them (their face matches their ID document) and that they are really there (liveness)."},
    "home_flow_title": {"pt": "Como funciona", "en": "How it works"},
    "home_flow": {"pt": "1. **Documento**: o cliente envia ou fotografa o documento; encontramos o rosto nele.\n2. **Prova de vida**: pela câmera, o cliente fica com o rosto neutro e depois cumpre um desafio sorteado pelo servidor (sorrir, piscar, virar a cabeça), com tempo limite; um modelo de IA estima se o rosto é real ou uma foto/tela.\n3. **Comparação**: o rosto ao vivo é comparado ao do documento durante toda a sessão.\n4. **Decisão**: *Cadastro aceito* ou *Enviado para análise*; os casos em análise vão para a fila dos analistas, cujas decisões viram rótulos para calibrar os limiares.", "en": "1. **Document**: the customer uploads or photographs their ID; we find the face on it.\n2. **Liveness**: on camera, the customer keeps a neutral face, then completes a challenge picked by the server (smile, blink, turn the head) within time limits; an AI model estimates whether the face is real or a photo/screen.\n3. **Matching**: the live face is compared with the document's face throughout the session.\n4. **Decision**: *Verification accepted* or *Sent for review*; cases in review go to the reviewers' queue, whose decisions become labels to calibrate the thresholds."},
    "home_pages_title": {"pt": "Páginas", "en": "Pages"},
    "home_pages": {"pt": "- **Verificação**: a verificação do cliente, ao vivo.\n- **Replay**: o analista reprocessa um vídeo gravado.\n- **Fila de análise**: casos enviados para análise; aprovar ou rejeitar.\n- **Modelo e limiares**: avaliação dos modelos e simulação de limiares.", "en": "- **Verificação** (verification): the customer's live check.\n- **Replay**: a reviewer re-runs a recorded video.\n- **Fila de análise** (review queue): cases sent for review; approve or reject.\n- **Modelo e limiares** (model and thresholds): model evaluation and threshold what-if."},
    "home_models_title": {"pt": "Modelos carregados", "en": "Loaded models"},
    "model": {"pt": "Modelo", "en": "Model"},
    "model_role": {"pt": "Função", "en": "Role"},
    "model_status": {"pt": "Situação", "en": "Status"},
    "model_ready": {"pt": "pronto", "en": "ready"},
    "model_missing": {"pt": "ausente", "en": "missing"},
    # Verificação.
    "verify_title": {"pt": "Verificação", "en": "Verification"},
    "verify_document_title": {"pt": "1. Documento de identidade", "en": "1. ID document"},
    "verify_document_upload": {"pt": "Enviar foto do documento", "en": "Upload a photo of the document"},
    "verify_document_camera": {"pt": "Fotografar o documento", "en": "Photograph the document"},
    "verify_document_face_found": {"pt": "Rosto encontrado no documento", "en": "Face found on the document"},
    "verify_document_needed": {"pt": "Envie o documento para começar; sem ele o resultado vai para análise.", "en": "Provide the document to begin; without it the result goes to review."},
    "verify_live_title": {"pt": "2. Prova de vida", "en": "2. Liveness check"},
    "verify_live_help": {"pt": "Clique em **Iniciar**, permita a câmera e siga as instruções na imagem.", "en": "Click **Start**, allow the camera and follow the instructions on the picture."},
    "verify_steps": {"pt": "Etapas do desafio", "en": "Challenge steps"},
    "verify_step_of": {"pt": "Etapa {index} de {total}", "en": "Step {index} of {total}"},
    "verify_remaining": {"pt": "{seconds:.0f} s restantes", "en": "{seconds:.0f} s left"},
    "verify_waiting_frames": {"pt": "Aguardando a câmera…", "en": "Waiting for the camera…"},
    "verify_result_title": {"pt": "3. Resultado", "en": "3. Result"},
    "verify_again": {"pt": "Fazer nova verificação", "en": "Start a new check"},
    "verify_speed": {"pt": "{fps:.1f} quadros/s analisados ({ms:.0f} ms cada, p95 {p95:.0f} ms); vídeo a {shown_fps:.1f} quadros/s, atraso adicionado {latency:.1f} ms (p95 {latency_p95:.1f} ms)", "en": "{fps:.1f} frames/s analysed ({ms:.0f} ms each, p95 {p95:.0f} ms); video at {shown_fps:.1f} frames/s, added delay {latency:.1f} ms (p95 {latency_p95:.1f} ms)"},
    "verify_case_saved": {"pt": "Caso registrado: {case_id}", "en": "Case recorded: {case_id}"},
    "verify_locked_out": {"pt": "Muitas tentativas sem sucesso. Tente novamente depois das {until}.", "en": "Too many unsuccessful attempts. Try again after {until}."},
    "verify_not_recorded": {"pt": "Não foi possível registrar a verificação: {error}", "en": "The check could not be recorded: {error}"},
    "verify_accepted_text": {"pt": "Tudo certo: sua identidade foi confirmada.", "en": "All good: your identity was confirmed."},
    "verify_review_text": {"pt": "Sua verificação será analisada por nossa equipe. Você receberá a resposta em breve.", "en": "Our team will review your verification. You will hear from us soon."},
    "live_probability": {"pt": "Probabilidade de rosto real", "en": "Live probability"},
    "similarity": {"pt": "Semelhança com o documento", "en": "Similarity to the document"},
    "webrtc_start": {"pt": "Iniciar", "en": "Start"},
    "webrtc_stop": {"pt": "Parar", "en": "Stop"},
    "webrtc_select_device": {"pt": "Escolher câmera", "en": "Select device"},
    "webrtc_media_api_not_available": {"pt": "A câmera não está disponível neste navegador", "en": "Media API not available"},
    "webrtc_device_ask_permission": {"pt": "Permita o acesso à câmera", "en": "Please allow the app to use your camera"},
    "webrtc_device_not_available": {"pt": "Nenhuma câmera encontrada", "en": "No camera found"},
    "webrtc_device_access_denied": {"pt": "O acesso à câmera foi negado", "en": "Camera access denied"},
}


def t(key: str, lang: str = DEFAULT_LANGUAGE, **values) -> str:
    """The text for ``key`` in ``lang`` (falling back to Portuguese, then the key)."""
    entry = TEXT.get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry[DEFAULT_LANGUAGE]
    return text.format(**values) if values else text
