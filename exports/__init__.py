"""Training-set exports: numbered snapshots of a project's accepted labels in COCO, YOLO, Pascal
VOC, CSV, JSON lines or class folders, and the webhook that tells a training job one is ready.

Layout: ``options`` (what was asked for), ``selectors`` and ``records`` (what is read),
``writers/`` (one module per format), ``staging``/``folder_staging``/``archive``/``manifest`` (how
the files are laid down), ``dataset`` (the pipeline), ``services`` (the Export lifecycle),
``download`` (handing a zip over), ``egress`` and ``webhooks`` (delivery), ``api`` and ``tasks``
(thin entry points). On the object store (S3_BUCKET): ``store`` (keys, the zip's multipart upload,
ranged reads), ``store_images`` (images fetched ahead) and ``uploading`` (the zip staged into the
upload).
"""
