package portal_test

import "os"

func tempDir() (string, error) { return os.MkdirTemp("", "lz-portal-test-") }
