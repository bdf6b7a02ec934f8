# The client SDKs under sdk/: generation steps that follow `buf generate`,
# builds, and tests against a live server. Included from the Makefile.
#
#   make sdk-tools     before `buf generate`: the plugins buf.gen.yaml runs from sdk/
#   make sdk-generate  after `buf generate`: what is derived from its output
#   make sdk-test      every SDK's tests against one server (sdk/scripts/with-server.sh)

SDK_WEB := sdk/web
SDK_ANDROID := sdk/android
SDK_IOS := sdk/ios
SDK_WITH_SERVER := ./sdk/scripts/with-server.sh
# Maven in batch mode without download progress; tests print Surefire's summary.
SDK_MVN := mvn -B -ntp -f $(SDK_ANDROID)/pom.xml

$(SDK_WEB)/node_modules/.package-lock.json: $(SDK_WEB)/package.json $(SDK_WEB)/package-lock.json
	cd $(SDK_WEB) && npm ci --no-audit --no-fund

.PHONY: sdk-web-deps
sdk-web-deps: $(SDK_WEB)/node_modules/.package-lock.json

.PHONY: sdk-tools
sdk-tools: ## Fetch the generators buf.gen.yaml runs for sdk/ (buf fetches them on first use otherwise).
	$(SDK_ANDROID)/scripts/codegen-tools.sh

.PHONY: sdk-generate
sdk-generate: ## Derive the SDK files that follow buf generate's output (run after it).
	node $(SDK_WEB)/scripts/gen-services.mjs
	mvn -B -q -f $(SDK_IOS)/pom.xml generate-sources
	python3 $(SDK_IOS)/verify.py --update

.PHONY: sdk-build-web
sdk-build-web: sdk-web-deps ## Build the web SDK (@nara/sdk) into sdk/web/dist.
	cd $(SDK_WEB) && npm run --silent build

.PHONY: sdk-test-web
sdk-test-web: sdk-build-web ## Test the web SDK in Node against a live server.
	$(SDK_WITH_SERVER) bash -c 'cd $(SDK_WEB) && npm test --silent'

.PHONY: sdk-check-openapi
sdk-check-openapi: ## Validate sdk/openapi/gen/nara.openapi.yaml (openapi-spec-validator).
	./sdk/openapi/check.sh validate

.PHONY: sdk-test-openapi
sdk-test-openapi: sdk-check-openapi ## Contract-test a live server against the OpenAPI description (schemathesis).
	$(SDK_WITH_SERVER) ./sdk/openapi/check.sh contract

.PHONY: sdk-test-android
sdk-test-android: ## Build the Android SDK and run its JUnit tests against a live server (Maven).
	$(SDK_WITH_SERVER) $(SDK_MVN) verify

.PHONY: sdk-test-ios
sdk-test-ios: ## Check the generated Swift package without a Swift toolchain (operations, Package.swift, syntax).
	./scripts/protovalidate-proto.sh
	./$(SDK_IOS)/check.sh

.PHONY: sdk-test
sdk-test: sdk-test-ios ## Test every SDK against one live server.
	$(SDK_WITH_SERVER) $(MAKE) --no-print-directory sdk-test-web sdk-test-openapi sdk-test-android
