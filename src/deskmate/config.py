"""One Settings object, read once from DESKMATE_* variables and passed down."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DESKMATE_", extra="ignore")

    data_dir: Path = Path("./deskmate-data")
    db_url: str | None = None
    # Evaluation data sets live beside the project, never inside it.
    data: Path = Path("../shared/data")
    encoder: str = "minilm-onnx"  # int8 ONNX: 1.6 ms a message vs 11 ms for torch fp32 (docs/bench/nlp-intents.md)
    # Threads of one ONNX encoder call (0: every core). `deskmate serve --workers N` sets cores / N, so
    # N workers do not ask N times the machine's cores at once.
    encoder_threads: int = 0
    redact_pii: bool = True
    secret_key: str = "change-me-in-production"
    generation_url: str | None = None
    generation_model: str = "default"
    generation_api_key: str | None = None
    redis_url: str | None = None
    alert_webhook_url: str | None = None

    @property
    def database_url(self) -> str:
        if self.db_url:
            return self.db_url
        return f"sqlite:///{(self.data_dir / 'deskmate.db').as_posix()}"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
