-- osm2pgsql flex style keeping the same objects as our OSM import (roads and stops),
-- for bench/osm_import. osm2pgsql 1.8 (Debian 12).
local schema = 'osm2pgsql_bench'

local not_a_road = {
    platform = true, bus_stop = true, elevator = true, services = true, rest_area = true,
    proposed = true, construction = true, abandoned = true, razed = true, emergency_bay = true,
}

-- the same access tags as matching_and_import_db/osm/reader.py ACCESS_KEYS, plus sidewalk*
local access_keys = { 'footway', 'access', 'vehicle', 'motor_vehicle', 'bicycle', 'foot',
                      'psv', 'bus', 'service', 'segregated', 'motorroad', 'oneway:bicycle' }

local roads = osm2pgsql.define_way_table('roads', {
    { column = 'highway', type = 'text', not_null = true },
    { column = 'name', type = 'text' },
    { column = 'oneway', type = 'text' },
    { column = 'maxspeed', type = 'text' },
    { column = 'surface', type = 'text' },
    { column = 'zone_traffic', type = 'text' },
    { column = 'cycleway', type = 'jsonb' },
    { column = 'access', type = 'jsonb' },
    { column = 'geom', type = 'linestring', projection = 4326, not_null = true },
}, { schema = schema })

local stops = osm2pgsql.define_table({
    name = 'stops',
    ids = { type = 'any', type_column = 'osm_type', id_column = 'osm_id' },
    columns = {
        { column = 'kind', type = 'text', not_null = true },
        { column = 'name', type = 'text' },
        { column = 'ref', type = 'text' },
        { column = 'uic_ref', type = 'text' },
        { column = 'ref_ifopt', type = 'text' },
        { column = 'ref_sloid', type = 'text' },
        { column = 'local_ref', type = 'text' },
        { column = 'operator', type = 'text' },
        { column = 'geom', type = 'point', projection = 4326, not_null = true },
    },
    schema = schema,
})

local function stop_kind(tags)
    if tags.highway == 'bus_stop' then return 'bus_stop' end
    local pt = tags.public_transport
    if pt == 'platform' or pt == 'stop_position' or pt == 'station' then return pt end
    local rw = tags.railway
    if rw == 'tram_stop' or rw == 'halt' or rw == 'station' then return rw end
    return nil
end

local function stop_row(object, kind, geom)
    local t = object.tags
    return { kind = kind, name = t.name, ref = t.ref, uic_ref = t.uic_ref,
             ref_ifopt = t['ref:IFOPT'], ref_sloid = t['ref:sloid'], local_ref = t.local_ref,
             operator = t.operator, geom = geom }
end

function osm2pgsql.process_node(object)
    local kind = stop_kind(object.tags)
    if kind then
        stops:insert(stop_row(object, kind, object:as_point()))
    end
end

function osm2pgsql.process_way(object)
    local t = object.tags
    local kind = stop_kind(t)
    if kind then
        stops:insert(stop_row(object, kind, object:as_linestring():centroid()))
    end
    local highway = t.highway
    if highway and not not_a_road[highway] and t.area ~= 'yes' then
        local cycleway = {}
        for k, v in pairs(t) do
            if k:sub(1, 8) == 'cycleway' then cycleway[k] = v end
        end
        local access = {}
        for _, k in ipairs(access_keys) do
            if t[k] then access[k] = t[k] end
        end
        for k, v in pairs(t) do
            if k:sub(1, 8) == 'sidewalk' then access[k] = v end
        end
        roads:insert({ highway = highway, name = t.name, oneway = t.oneway,
                       maxspeed = t.maxspeed, surface = t.surface,
                       zone_traffic = t['zone:traffic'], cycleway = cycleway, access = access,
                       geom = object:as_linestring() })
    end
end
