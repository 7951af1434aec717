# syntax=docker/dockerfile:1
# Two targets: "web" (Django web, web-queue and CPU scoring workers) and "gpu" (ml.worker on CUDA).
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN useradd --create-home --uid 10001 radgame

FROM base AS web
# tesseract-ocr: the OCR flag for burned-in text in uploaded images (RADGAME_OCR, docs/deploy.md).
RUN apt-get update && apt-get install -y --no-install-recommends tesseract-ocr \
    && rm -rf /var/lib/apt/lists/*
# CPU torch for MiniLM sentence alignment in the scoring worker.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY requirements/lock.txt requirements/lock.txt
RUN pip install --no-deps -r requirements/lock.txt
COPY . .
RUN pip install --no-deps . && mkdir -p /data/media && chown radgame /data/media
USER radgame
EXPOSE 8000

FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04 AS gpu
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 HF_HUB_OFFLINE=1
RUN apt-get update && apt-get install -y --no-install-recommends python3.11 python3-pip \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Only what ml/ needs: no Django, no database driver.
RUN python3.11 -m pip install torch==2.13.0 "transformers>=5,<6" "celery[redis]>=5.5,<5.8" \
    "pillow>=11,<14" "numpy>=2,<2.5" "scipy>=1.13,<1.19" "httpx>=0.27,<0.29"
COPY ml ml
RUN useradd --create-home --uid 10001 radgame
USER radgame
