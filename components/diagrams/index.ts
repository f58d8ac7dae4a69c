// The four diagrams and their feed. Each diagram takes a plain snapshot and optional callbacks.
export { default as NamespaceDiagram } from './NamespaceDiagram';
export { default as LayerDiagram } from './LayerDiagram';
export { default as NetworkDiagram } from './NetworkDiagram';
export { default as CgroupDiagram } from './CgroupDiagram';
export { useDiagramFeed } from './useDiagramFeed';
export type * from '../../server/engine/inspect/types';
