"""REST representations of the knowledge base."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from parley.core.api import StrictModelSerializer, StrictSerializer
from parley.knowledge.models import EmbedderKind, KnowledgeDocument, KnowledgeSettings, KnowledgeSource


def _tag() -> serializers.RegexField:
    return serializers.RegexField(r"^[\w.:/-]{1,64}$", error_messages={"invalid": "Tags are 1-64 letters, digits or . _ : / -"})


class KnowledgeSourceSerializer(StrictModelSerializer):
    tags = serializers.ListField(child=_tag(), required=False, max_length=50)
    document_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = KnowledgeSource
        fields = [
            "id",
            "name",
            "kind",
            "url",
            "crawl_depth",
            "max_pages",
            "tags",
            "language",
            "enabled",
            "document_count",
            "last_synced_at",
            "sync_error",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "document_count", "last_synced_at", "sync_error", "created_at", "updated_at"]
        extra_kwargs = {"crawl_depth": {"max_value": 5}, "max_pages": {"min_value": 1, "max_value": 1000}}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kind = attrs.get("kind", getattr(self.instance, "kind", None))
        if self.instance is not None and "kind" in attrs and attrs["kind"] != self.instance.kind:
            raise serializers.ValidationError({"kind": ["The kind of a source cannot change; create a new source."]})
        if kind in ("url", "sitemap") and not attrs.get("url", getattr(self.instance, "url", "")):
            raise serializers.ValidationError({"url": [f"A {kind} source needs a url."]})
        return attrs


class KnowledgeDocumentSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    source_name = serializers.CharField(source="source.name", read_only=True)

    class Meta:
        model = KnowledgeDocument
        fields = [
            "id",
            "source",
            "source_name",
            "external_ref",
            "title",
            "url",
            "content_type",
            "size_bytes",
            "checksum",
            "version",
            "language",
            "tags",
            "status",
            "status_reason",
            "progress",
            "chunk_count",
            "indexed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class DocumentUpdateSerializer(StrictSerializer):
    title = serializers.CharField(max_length=500, required=False)
    tags = serializers.ListField(child=_tag(), required=False, max_length=50)
    language = serializers.RegexField(r"^[a-z]{2}$", required=False)


class _SourceField(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    def get_queryset(self) -> Any:
        tenant = self.context.get("tenant")
        return KnowledgeSource.objects.filter(tenant=tenant)


class UploadSerializer(StrictSerializer):
    source = _SourceField()  # type: ignore[assignment]
    file = serializers.FileField(allow_empty_file=True)
    title = serializers.CharField(max_length=500, required=False, default="")
    tags = serializers.CharField(required=False, default="", help_text="Comma-separated tags")
    language = serializers.RegexField(r"^[a-z]{2}$", required=False, default="")

    def validate_tags(self, value: str) -> list[str]:
        tags = [tag.strip() for tag in value.split(",") if tag.strip()]
        for tag in tags:
            _tag().run_validation(tag)
        return tags


class TextDocumentSerializer(StrictSerializer):
    source = _SourceField()  # type: ignore[assignment]
    title = serializers.CharField(max_length=500)
    text = serializers.CharField(max_length=1_000_000)
    tags = serializers.ListField(child=_tag(), required=False, max_length=50)


class SearchQuerySerializer(StrictSerializer):
    q = serializers.CharField(max_length=2000)
    k = serializers.IntegerField(min_value=1, max_value=50, default=5)
    source = serializers.ListField(child=serializers.UUIDField(), required=False)  # type: ignore[assignment]
    tag = serializers.ListField(child=_tag(), required=False)
    language = serializers.RegexField(r"^[a-z]{2}$", required=False)


class RetrievedChunkSerializer(serializers.Serializer):  # type: ignore[type-arg]
    chunk_id = serializers.CharField()
    document_id = serializers.CharField()
    document_title = serializers.CharField()
    source_name = serializers.CharField()
    url = serializers.CharField()
    heading_path = serializers.ListField(child=serializers.CharField())
    text = serializers.CharField()
    score = serializers.FloatField()
    vector_score = serializers.FloatField()
    text_score = serializers.FloatField()


class SearchResponseSerializer(serializers.Serializer):  # type: ignore[type-arg]
    query = serializers.CharField()
    results = RetrievedChunkSerializer(many=True)


class CoverageQuerySerializer(StrictSerializer):
    since = serializers.DateTimeField(required=False)
    threshold = serializers.FloatField(min_value=0.0, max_value=1.0, required=False)
    similarity = serializers.FloatField(min_value=0.3, max_value=0.99, required=False)
    limit = serializers.IntegerField(min_value=1, max_value=500, default=100)
    format = serializers.ChoiceField(choices=["json", "csv"], default="json")


class KnowledgeSettingsSerializer(StrictModelSerializer):
    api_key = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=500)
    embedder_kind = serializers.ChoiceField(choices=EmbedderKind.choices)
    dimension = serializers.IntegerField(min_value=8, max_value=4096, required=False)
    batch_size = serializers.IntegerField(min_value=1, max_value=512, required=False)

    class Meta:
        model = KnowledgeSettings
        fields = ["embedder_kind", "base_url", "model", "api_key", "dimension", "batch_size", "updated_at"]
        read_only_fields = ["updated_at"]
