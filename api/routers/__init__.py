"""One router per resource, each under the /v1 prefix (the audit log names routes by their full template)."""
