package articles

import _ "embed"

// SampleFeed is an RSS 2.0 feed of sixteen real Kommune21 news items (the
// seed news list): the demo imports it and the tests use it. Its links and
// GUIDs are made up in the portal's style; nothing is fetched from them.
//
//go:embed sample/kommune21.xml
var SampleFeed []byte
