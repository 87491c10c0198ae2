# Release operations from the repository root; they run `release-mcp release ...` (see docs/releases.md).
#   make release-prepare TENANT=primary [FROM=dev] [TO=staging] [BUNDLE=bundle.json] [COMMIT=<sha>]
#   make release-promote TENANT=primary [RELEASE=rel_...]   (no RELEASE: the newest prepared release [to TO])
#   make release-rollback TENANT=primary RELEASE=rel_...
# CONFIG= and MEMORY= pass --config and --memory; RELEASE_MCP= runs another build of the command.

RELEASE_MCP ?= node dist/cli.js
FROM ?= dev
TO ?= staging

common = $(if $(TENANT),--tenant $(TENANT)) $(if $(CONFIG),--config $(CONFIG)) $(if $(MEMORY),--memory $(MEMORY))
# TO narrows promote --latest only when given (on the command line or in the environment).
promote_to = $(if $(filter command line environment,$(origin TO)),--to $(TO))

.PHONY: release-prepare release-promote release-rollback

release-prepare:
	$(RELEASE_MCP) release prepare --from $(FROM) --to $(TO) $(if $(BUNDLE),--bundle-data $(BUNDLE)) $(if $(COMMIT),--commit $(COMMIT)) $(common)

release-promote:
	$(RELEASE_MCP) release promote $(if $(RELEASE),$(RELEASE),--latest $(promote_to)) $(common)

release-rollback:
	$(if $(RELEASE),,$(error RELEASE is required: make release-rollback TENANT=<tenant> RELEASE=rel_YYYYMMDD_hhmm))
	$(RELEASE_MCP) release rollback $(RELEASE) $(common)
