package server_test

import (
	"os"
	"testing"

	"github.com/nara-care/nara/store/storetest"
)

func TestMain(m *testing.M) {
	os.Exit(storetest.Run(m))
}
