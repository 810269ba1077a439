package articles

import "github.com/kommune21/digest/taxonomy"

// testSet is the default taxonomy for tests that need no database.
func testSet() *taxonomy.Set { return taxonomy.Default() }
