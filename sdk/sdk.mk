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

# A test server's local stand-ins (BankID simulator, OIDC provider, FCM)
# listen on free ports, not on the ones `make run` uses, and the web
# example's page and the staff app get free addresses that the server's CORS
# allows; staff logins return to the staff app (OIDC_REDIRECT_URL). The tests
# find them through the same variables. With NARA_URL set the server is
# already running (yours, or the one sdk-test started) and nothing changes.
SDK_FREE_ADDR = 127.0.0.1:$$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SDK_TEST_ENV = if [ -z "$${NARA_URL:-}" ]; then \
	export NARA_BANKID_SIM_ADDR="$${NARA_BANKID_SIM_ADDR:-$(SDK_FREE_ADDR)}"; \
	export NARA_OIDC_DEV_ADDR="$${NARA_OIDC_DEV_ADDR:-$(SDK_FREE_ADDR)}"; \
	export NARA_FCM_FAKE_ADDR="$${NARA_FCM_FAKE_ADDR:-$(SDK_FREE_ADDR)}"; \
	export NARA_EXAMPLE_ADDR="$${NARA_EXAMPLE_ADDR:-$(SDK_FREE_ADDR)}"; \
	export NARA_STAFF_ADDR="$${NARA_STAFF_ADDR:-$(SDK_FREE_ADDR)}"; \
	export NARA_CORS_ORIGINS="$${NARA_CORS_ORIGINS:-http://$$NARA_EXAMPLE_ADDR,http://$$NARA_STAFF_ADDR}"; \
	export OIDC_REDIRECT_URL="$${OIDC_REDIRECT_URL:-http://$$NARA_STAFF_ADDR/}"; fi;

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

.PHONY: sdk-build-web-example
sdk-build-web-example: sdk-build-web ## Bundle the web SDK's example page (sdk/web/example) with esbuild.
	cd $(SDK_WEB) && npm run --silent build:example

.PHONY: sdk-build-web-staff
sdk-build-web-staff: sdk-build-web ## Bundle the staff web app (sdk/web/staff) with esbuild.
	cd $(SDK_WEB) && npm run --silent build:staff

.PHONY: sdk-test-web
sdk-test-web: sdk-build-web-example sdk-build-web-staff ## Test the web SDK in Node, and its example page and staff app in headless Chromium, against a live server.
	./scripts/install-deps.sh --check --chromium
	$(SDK_TEST_ENV) $(SDK_WITH_SERVER) bash -c 'cd $(SDK_WEB) && npm test --silent'

.PHONY: sdk-check-openapi
sdk-check-openapi: ## Validate sdk/openapi/gen/nara.openapi.yaml (openapi-spec-validator).
	./sdk/openapi/check.sh validate

.PHONY: sdk-test-openapi
sdk-test-openapi: sdk-check-openapi ## Contract-test a live server against the OpenAPI description (schemathesis).
	$(SDK_TEST_ENV) $(SDK_WITH_SERVER) ./sdk/openapi/check.sh contract

.PHONY: sdk-test-android
sdk-test-android: ## Build the Android SDK and run its JUnit tests against a live server (Maven).
	$(SDK_TEST_ENV) $(SDK_WITH_SERVER) $(SDK_MVN) verify

.PHONY: sdk-test-ios
sdk-test-ios: ## Check the generated Swift package without a Swift toolchain (operations, Package.swift, syntax).
	./scripts/protovalidate-proto.sh
	./$(SDK_IOS)/check.sh

.PHONY: sdk-test
sdk-test: sdk-test-ios ## Test every SDK against one live server.
	$(SDK_TEST_ENV) $(SDK_WITH_SERVER) $(MAKE) --no-print-directory sdk-test-web sdk-test-openapi sdk-test-android
