"""One chat interface over every model backend, so prompts are written once.

Messages use the Hugging Face chat shape (a role and a list of content parts); the local backends
pass them to the model's own chat template, the OpenAI-compatible client converts image parts into
base64 data URLs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypedDict

if TYPE_CHECKING:
    from PIL.Image import Image

Role = Literal["system", "user", "assistant"]


class ChatMessage(TypedDict):
    role: Role
    content: list[dict[str, Any]]


class ChatModel(Protocol):
    """A model that answers a conversation with text."""

    backend: str  # "transformers" or "openai": recorded with every answer
    model_id: str

    def complete(self, messages: Sequence[ChatMessage], *, max_new_tokens: int) -> str: ...


def text_part(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def image_part(image: Image) -> dict[str, Any]:
    return {"type": "image", "image": image}


def chat_message(role: Role, *parts: dict[str, Any] | str) -> ChatMessage:
    content = [text_part(part) if isinstance(part, str) else part for part in parts]
    return {"role": role, "content": content}


def message_text(message: ChatMessage) -> str:
    """The text parts of a message joined: what a text-only model or endpoint receives."""
    return "\n\n".join(part["text"] for part in message["content"] if part.get("type") == "text")


def has_images(message: ChatMessage) -> bool:
    return any(part.get("type") == "image" for part in message["content"])


def complete_all(
    chat_model: ChatModel, conversations: Sequence[Sequence[ChatMessage]], max_new_tokens: int
) -> list[str | Exception]:
    """Answer several conversations: in one batch where the model batches (``complete_many``),
    one by one otherwise; a failed conversation gets its exception in its place."""
    if not conversations:
        return []
    complete_many = getattr(chat_model, "complete_many", None)
    if complete_many is not None:
        return list(complete_many(conversations, max_new_tokens=max_new_tokens))
    answers: list[str | Exception] = []
    for messages in conversations:
        try:
            answers.append(chat_model.complete(messages, max_new_tokens=max_new_tokens))
        except Exception as exc:
            answers.append(exc)
    return answers
