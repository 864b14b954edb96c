"""Department data ingestion (一数一源): declared source schemas, validation, idempotent loading."""
