// Program otelcol-mcp is the OpenTelemetry Collector distribution of mcp-audit.
//
// It has the same shape as the code that the OpenTelemetry Collector Builder
// (OCB) generates from ../builder.yaml: the builder module may not be
// fetchable everywhere, so this module is what scripts/build.sh compiles.
// Keep the component list here and in ../builder.yaml the same.
package main

import (
	"log"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	envprovider "go.opentelemetry.io/collector/confmap/provider/envprovider"
	fileprovider "go.opentelemetry.io/collector/confmap/provider/fileprovider"
	yamlprovider "go.opentelemetry.io/collector/confmap/provider/yamlprovider"
	"go.opentelemetry.io/collector/otelcol"
)

// version is the distribution version; it follows the collector release
// that every component module is pinned to.
const version = "0.161.0"

func main() {
	info := component.BuildInfo{
		Command:     "otelcol-mcp",
		Description: "mcp-audit OpenTelemetry Collector distribution",
		Version:     version,
	}

	set := otelcol.CollectorSettings{
		BuildInfo: info,
		Factories: components,
		ConfigProviderSettings: otelcol.ConfigProviderSettings{
			ResolverSettings: confmap.ResolverSettings{
				ProviderFactories: []confmap.ProviderFactory{
					envprovider.NewFactory(),
					fileprovider.NewFactory(),
					yamlprovider.NewFactory(),
				},
				DefaultScheme: "env",
			},
		},
	}

	cmd := otelcol.NewCommand(set)
	if err := cmd.Execute(); err != nil {
		log.Fatalf("collector server run finished with error: %v", err)
	}
}
