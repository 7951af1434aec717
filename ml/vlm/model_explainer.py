"""Explanations written by a model (local VLM or OpenAI-compatible endpoint), with the knowledge
base as the safety net when the model's answer is unusable or the image cannot be read."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ml.vlm.chat import ChatMessage, ChatModel, complete_all
from ml.vlm.images import ImageLoadError, prepare_images, shows_resident_box
from ml.vlm.knowledge import KnowledgeExplainer, finding_facts
from ml.vlm.prompts import PROMPT_VERSION, explain_messages
from ml.vlm.schema import ExplainRequest, Explanation
from ml.vlm.text import clean_generated_text


class ModelExplainer:
    """Asks a chat model for at most two sentences; transport errors propagate so a worker can
    retry, unusable answers fall back to the knowledge text and say so."""

    def __init__(
        self, chat_model: ChatModel, *, media_root: Path, with_crop: bool, max_new_tokens: int
    ) -> None:
        self.chat_model = chat_model
        self.name = chat_model.backend
        self.media_root = media_root
        self.with_crop = with_crop
        self.max_new_tokens = max_new_tokens
        self._knowledge = KnowledgeExplainer()

    def explain(self, request: ExplainRequest) -> Explanation:
        return self.explain_many([request])[0]

    def explain_many(self, requests: Sequence[ExplainRequest]) -> list[Explanation]:
        """All of a job's requests go to the model together (one batch on a local model); a
        transport or generation error of any of them propagates, failing this job only."""
        answers: list[Explanation | None] = []
        conversations: list[list[ChatMessage]] = []
        for request in requests:
            try:
                images = prepare_images(request, self.media_root, with_crop=self.with_crop)
            except ImageLoadError as exc:
                answers.append(self._fallback(request, f"image unavailable: {exc}"))
                continue
            answers.append(None)
            conversations.append(
                explain_messages(
                    request,
                    finding_facts(request),
                    images,
                    shows_resident_box=bool(images) and shows_resident_box(request),
                )
            )
        raw_answers = iter(complete_all(self.chat_model, conversations, self.max_new_tokens))
        return [
            answer if answer is not None else self._from_model(request, next(raw_answers))
            for request, answer in zip(requests, answers, strict=True)
        ]

    def _from_model(self, request: ExplainRequest, raw: str | Exception) -> Explanation:
        if isinstance(raw, Exception):
            raise raw
        text = clean_generated_text(raw, max_sentences=2)
        if text is None:
            return self._fallback(request, "the model's answer was empty or unreadable")
        return Explanation(
            text=text,
            backend=self.chat_model.backend,
            model_id=self.chat_model.model_id,
            prompt_version=PROMPT_VERSION,
        )

    def _fallback(self, request: ExplainRequest, reason: str) -> Explanation:
        explanation = self._knowledge.explain(request)
        source = f"{self.chat_model.backend}:{self.chat_model.model_id}"
        return Explanation(
            text=explanation.text,
            backend=explanation.backend,
            model_id=explanation.model_id,
            prompt_version=explanation.prompt_version,
            fallback_reason=f"{source}: {reason}"[:300],
        )
