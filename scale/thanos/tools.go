//go:build tools

// Package tools pins the Thanos command this module builds (go.mod explains the replace block).
package tools

import _ "github.com/thanos-io/thanos/cmd/thanos"
