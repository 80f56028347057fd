from parley.audit.api import AuditEventViewSet

api_routes = [("audit-events", AuditEventViewSet, "audit-event")]
