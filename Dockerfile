FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml ./
COPY sebenzai sebenzai
COPY accounts accounts
COPY annotations annotations
COPY consensus consensus
COPY workers workers
COPY predictions predictions
COPY exports exports
COPY frontend frontend
COPY devtools devtools
COPY locale locale
COPY deploy/gunicorn.conf.py deploy/gunicorn.conf.py
COPY manage.py ./
# With the ONNX runner: the compose file runs a worker for the model queue.
RUN pip install --no-cache-dir ".[onnx]" && useradd --create-home sebenzai && mkdir -p /data/media /app/var \
    && chown -R sebenzai /data /app/var
# Hashed names (module imports rewritten), .gz and .br beside each: sebenzai/storage.py.
RUN SECRET_KEY=build-only-$(head -c 32 /dev/urandom | base64) python manage.py collectstatic --noinput -v0
USER sebenzai
EXPOSE 8000
# The web process, as the compose file and a native install run it: deploy/gunicorn.conf.py.
CMD ["gunicorn", "-c", "deploy/gunicorn.conf.py", "sebenzai.wsgi"]
