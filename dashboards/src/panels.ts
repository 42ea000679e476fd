// Panel factories with the options every MCP dashboard shares: legends as tables with
// last/max, stats reduced to the last value, tables without the Time column.
import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog';
import {
  BigValueColorMode,
  BigValueGraphMode,
  LegendDisplayMode,
  LegendPlacement,
  ReduceDataOptionsBuilder,
  SortOrder,
  TooltipDisplayMode,
  VizLegendOptionsBuilder,
  VizTooltipOptionsBuilder,
} from '@grafana/grafana-foundation-sdk/common';
import {
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as StatBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TableBuilder } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { PROM } from './common.js';

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Numbers panels in the order they are created, so ids are stable across regenerations. */
export class Ids {
  private next = 1;
  take(): number {
    return this.next++;
  }
}

export function row(ids: Ids, title: string, y: number) {
  return new RowBuilder(title).id(ids.take()).gridPos({ x: 0, y, w: 24, h: 1 });
}

export function timeseries(ids: Ids, box: Box, title: string, description: string, unit: string) {
  return new TimeseriesBuilder()
    .id(ids.take())
    .gridPos(box)
    .title(title)
    .description(description)
    .datasource(PROM)
    .unit(unit)
    .min(0)
    .fillOpacity(10)
    .legend(
      new VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(LegendDisplayMode.Table)
        .placement(LegendPlacement.Bottom)
        .calcs(['lastNotNull', 'max']),
    )
    .tooltip(new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi).sort(SortOrder.Descending));
}

export function stat(
  ids: Ids,
  box: Box,
  title: string,
  description: string,
  unit: string,
  target: Builder<Dataquery>,
) {
  return new StatBuilder()
    .id(ids.take())
    .gridPos(box)
    .title(title)
    .description(description)
    .datasource(PROM)
    .unit(unit)
    .graphMode(BigValueGraphMode.None)
    .colorMode(BigValueColorMode.Value)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .withTarget(target);
}

/** A stat that turns red above `red` (and stays neutral below). */
export function alarmingStat(
  ids: Ids,
  box: Box,
  title: string,
  description: string,
  unit: string,
  red: number,
  target: Builder<Dataquery>,
) {
  return stat(ids, box, title, description, unit, target).thresholds(
    new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([
      { value: null, color: 'green' },
      { value: red, color: 'red' },
    ]),
  );
}

export function table(ids: Ids, box: Box, title: string, description: string) {
  return new TableBuilder()
    .id(ids.take())
    .gridPos(box)
    .title(title)
    .description(description)
    .datasource(PROM);
}
