/**
 * Endpoints of APIs other teams are building. A page probes its endpoint and shows "not available
 * yet" on 404, so the dashboard keeps working while the backend grows. Keep every such path here.
 */
export const endpoints = {
  traces: (conversationId: string) => `/api/v1/conversations/${conversationId}/traces/`,
  suggestions: (conversationId: string) => `/api/v1/suggestions/?conversation=${conversationId}&status=pending`,
  suggestionStatus: (id: string) => `/api/v1/suggestions/${id}/status/`,
  pendingActions: (conversationId: string) => `/api/v1/pending-actions/?conversation=${conversationId}`,
  pendingActionDecision: (id: string, decision: "approve" | "reject") => `/api/v1/pending-actions/${id}/${decision}/`,
  handover: {
    takeOver: (conversationId: string) => `/api/v1/conversations/${conversationId}/takeover/`,
    handBack: (conversationId: string) => `/api/v1/conversations/${conversationId}/hand-back/`,
    reassign: (conversationId: string) => `/api/v1/conversations/${conversationId}/reassign/`,
    resolve: (conversationId: string) => `/api/v1/conversations/${conversationId}/resolve/`,
    queue: "/api/v1/handover/queue/",
  },
  cannedResponses: "/api/v1/canned-responses/",
  cannedRender: (id: string) => `/api/v1/canned-responses/${id}/render/`,
  agentStatus: "/api/v1/agents/me/status/",
  orders: (customerId: string) => `/api/v1/orders/?customer=${customerId}`,
  ordersByNumber: (number: string) => `/api/v1/orders/?number=${encodeURIComponent(number)}`,
  followUps: "/api/v1/follow-ups/",
  customerMerge: (customerId: string) => `/api/v1/customers/${customerId}/merge/`,
  customerNotes: (customerId: string) => `/api/v1/customers/${customerId}/notes/`,
  assistants: "/api/v1/assistants/",
  knowledgeSources: "/api/v1/knowledge/sources/",
  knowledgeDocuments: "/api/v1/knowledge/documents/",
  knowledgeUpload: "/api/v1/knowledge/documents/upload/",
  knowledgeSearch: (q: string) => `/api/v1/knowledge/search/?q=${encodeURIComponent(q)}&k=8`,
  knowledgeCoverage: "/api/v1/knowledge/coverage/",
  models: "/api/v1/models/",
  analytics: "/api/v1/analytics/",
  auditEvents: "/api/v1/audit-events/",
} as const;
